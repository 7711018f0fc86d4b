import Dispatch
import Foundation
import Glibc
import HTTPServer
import SystemIO
import Testing
import TestSupport

/// A real momd, started with a known secret and users with known passwords, is driven through
/// logins, user and topic creation, produce, fetch and a series of auth failures. Its whole
/// stdout and stderr must then be well-formed `key=value` log lines that never contain the
/// secret, a password, a token, or any user's salt or hash (raw, hex, or base64). Standalone
/// (no ZooKeeper), so it runs wherever momd and momctl are built.
@Suite struct LogSecrecyTests {
    /// A blocking client with headers, on its own serial queue (see NodeClient for why).
    final class Client: @unchecked Sendable {
        private let client: HTTPClient
        private let queue = DispatchQueue(label: "mom-it-log-secrecy")

        init(port: UInt16) throws { client = try HTTPClient(address: .loopback(port: port), timeoutMilliseconds: 15_000) }

        func send(_ method: HTTPMethod, _ target: String, json: String? = nil, token: String? = nil) async throws -> (Int, JSONValue?) {
            var pairs: [(String, String)] = []
            if json != nil { pairs.append(("Content-Type", "application/json")) }
            if let token { pairs.append(("Authorization", "Bearer \(token)")) }
            let headers = HTTPHeaders(pairs)
            let body = Array((json ?? "").utf8)
            let result: Result<HTTPResponse, HTTPClientError> = await withCheckedContinuation { continuation in
                queue.async {
                    do throws(HTTPClientError) {
                        continuation.resume(returning: .success(try self.client.send(method, target, body: body, headers: headers)))
                    } catch {
                        self.client.close()
                        continuation.resume(returning: .failure(error))
                    }
                }
            }
            let response = try result.get()
            return (response.status.code, try? JSONValue(parsing: response.body))
        }
    }

    static func randomHex(_ bytes: Int) -> String {
        (0..<bytes).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    /// Runs momctl with `input` on stdin (through a file: the harness's children read /dev/null).
    static func momctl(_ executable: String, _ arguments: [String], input: String, directory: String) async throws -> Int32? {
        let inputPath = directory + "/momctl-input-\(randomHex(4))"
        try input.write(toFile: inputPath, atomically: true, encoding: .utf8)
        defer { unlink(inputPath) }
        let child = try ChildProcess(
            executable: "/bin/sh", arguments: ["-c", "exec \"$0\" \"$@\" < \"$MOMCTL_INPUT\"", executable] + arguments,
            environment: ["MOMCTL_INPUT=\(inputPath)", "PATH=/usr/bin:/bin"], logPath: directory + "/momctl.log")
        return await child.waitForExit(timeoutMilliseconds: 30_000)
    }

    /// The salt and hash stored for `name` (role `role`), read from the SQLite file: the users
    /// row holds name, role, salt (16-byte blob), hash (32-byte blob) in that order, so its
    /// record header ends with the serial types 0x2C and 0x4C, two integer types, then the
    /// name and role bytes follow.
    static func storedSecrets(in database: [UInt8], name: String, role: String) -> [[UInt8]] {
        let marker = Array((name + role).utf8)
        var found: [[UInt8]] = []
        var index = 4
        while index + marker.count + 48 <= database.count {
            if database[index - 4] == 0x2C, database[index - 3] == 0x4C, Array(database[index..<index + marker.count]) == marker {
                let start = index + marker.count
                found.append(Array(database[start..<start + 16]))
                found.append(Array(database[start + 16..<start + 48]))
            }
            index += 1
        }
        return found
    }

    /// Every spelling of `bytes` a careless log line could use.
    static func encodings(of bytes: [UInt8]) -> [[UInt8]] {
        let hex = bytes.map { String(format: "%02x", $0) }.joined()
        let base64 = Data(bytes).base64EncodedString()
        let base64URL = base64.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        return [bytes, Array(hex.utf8), Array(hex.uppercased().utf8), Array(base64.utf8), Array(base64URL.utf8),
                Array(bytes.map(String.init).joined(separator: ", ").utf8)]
    }

    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty, needle.count <= haystack.count else { return false }
        let first = needle[0]
        var index = 0
        while index <= haystack.count - needle.count {
            if haystack[index] == first && Array(haystack[index..<index + needle.count]) == needle { return true }
            index += 1
        }
        return false
    }

    @Test func momdNeverLogsSecretsPasswordsTokensOrHashes() async throws {
        let momd = try #require(IntegrationEnvironment.momdPath(), "momd is not built next to the tests; run `swift build` first")
        let momctlPath = (momd as NSString).deletingLastPathComponent + "/momctl"
        #expect(access(momctlPath, X_OK) == 0, "momctl is not built next to momd")
        var template = Array((FileManager.default.temporaryDirectory.path + "/mom-logs-XXXXXX").utf8CString)
        let directory = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
        defer { if !IntegrationEnvironment.keepFiles { try? FileManager.default.removeItem(atPath: directory) } }

        let secret = "log-secrecy-secret-" + Self.randomHex(24)
        // Quotes and a backslash make the password change shape when a log escapes it; the random
        // core survives any escaping, so it is searched for on its own too.
        let adminPasswordCore = Self.randomHex(8)
        let adminPassword = "Adm1n \"quoted\" =\\ " + adminPasswordCore
        let alicePassword = "al1ce-" + Self.randomHex(12)
        let usersDatabase = directory + "/users.db"
        #expect(try await Self.momctl(momctlPath, ["user", "add", "admin", "--users-db", usersDatabase, "--password-stdin", "--role", "admin"], input: adminPassword + "\n", directory: directory) == 0)
        #expect(try await Self.momctl(momctlPath, ["user", "add", "alice", "--users-db", usersDatabase, "--password-stdin", "--role", "producer"], input: alicePassword + "\n", directory: directory) == 0)
        let database = try [UInt8](Data(contentsOf: URL(fileURLWithPath: usersDatabase)))
        let stored = Self.storedSecrets(in: database, name: "admin", role: "admin") + Self.storedSecrets(in: database, name: "alice", role: "producer")
        try #require(stored.count == 4, "expected a salt and a hash for each of the two users in \(usersDatabase); the users table layout changed?")

        let ports = try TestPorts.take(2)
        let logPath = directory + "/momd.log"
        let child = try ChildProcess(executable: momd, arguments: [
            "--node-id", "1", "--data-dir", directory + "/data", "--http-listen", "127.0.0.1:\(ports[0])",
            "--raft-listen", "127.0.0.1:\(ports[1])", "--users-db", usersDatabase, "--tick-ms", "20",
        ], environment: ["MOM_SECRET_KEY=\(secret)"], logPath: logPath)
        var tokens: [String] = []
        do {
            let client = try Client(port: ports[0])
            try await Self.exercise(client, adminPassword: adminPassword, alicePassword: alicePassword, tokens: &tokens)
        } catch {
            await child.killAndReap()
            throw error
        }
        #expect(await child.terminate(graceMilliseconds: 20_000), "momd did not stop on SIGTERM")

        let log = try [UInt8](Data(contentsOf: URL(fileURLWithPath: logPath)))
        let text = String(decoding: log, as: UTF8.self)
        #expect(text.contains("msg=\"node started\""), "the log shows no start-up line:\n\(text)")
        #expect(text.contains("msg=\"login refused\" user=admin reason=unauthorized"), "auth failures are not logged:\n\(text)")
        for line in text.split(separator: "\n") {
            #expect(line.range(of: #"^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z level=(debug|info|warn|error) msg="#, options: .regularExpression) != nil,
                    "not a structured log line: \(line)")
        }
        let forbidden: [(String, [[UInt8]])] = [
            ("the JWT secret", [Array(secret.utf8)]),
            ("the admin password", [Array(adminPassword.utf8), Array(adminPasswordCore.utf8)]),
            ("alice's password", [Array(alicePassword.utf8)]),
        ] + tokens.enumerated().map { ("token \($0.offset)", [Array($0.element.utf8), Array($0.element.split(separator: ".").last.map { Array($0.utf8) } ?? [])]) }
          + stored.enumerated().map { ("stored salt/hash \($0.offset)", Self.encodings(of: $0.element)) }
        for (what, spellings) in forbidden {
            for spelling in spellings where !spelling.isEmpty {
                let leaked = Self.contains(log, spelling)
                #expect(!leaked, "momd's output contains \(what)")
            }
        }
    }

    /// Logins, role checks, topic work and auth failures, each with its expected status.
    static func exercise(_ client: Client, adminPassword: String, alicePassword: String, tokens: inout [String]) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while (try? await client.send(.get, "/healthz"))?.0 != 200 {
            guard ContinuousClock.now < deadline else { throw HarnessError("momd did not answer /healthz within 30 s") }
            try await Task.sleep(for: .milliseconds(50))
        }
        func login(_ user: String, _ password: String) async throws -> (Int, String?) {
            var writer = JSONWriter()
            writer.beginObject()
            writer.key("username"); writer.string(user)
            writer.key("password"); writer.string(password)
            writer.endObject()
            let (status, body) = try await client.send(.post, "/v1/auth/token", json: String(decoding: writer.bytes, as: UTF8.self))
            return (status, body?["token"]?.stringValue)
        }
        let admin = try #require(try await login("admin", adminPassword).1, "admin login failed")
        let alice = try #require(try await login("alice", alicePassword).1, "alice login failed")
        tokens += [admin, alice]
        // Auth failures: wrong password, unknown user, another user's password, bad tokens,
        // no token, a token signed with another key, and a role without the permission.
        #expect(try await login("admin", adminPassword + "x").0 == 401)
        #expect(try await login("mallory", adminPassword).0 == 401)
        #expect(try await login("alice", adminPassword).0 == 401)
        #expect(try await client.send(.get, "/v1/topics", token: "not-a-jwt").0 == 401)
        #expect(try await client.send(.get, "/v1/topics").0 == 401)
        let forged = admin.split(separator: ".").prefix(2).joined(separator: ".") + ".c2lnbmVkLXdpdGgtYW5vdGhlci1rZXk"
        #expect(try await client.send(.get, "/v1/topics", token: forged).0 == 401)
        #expect(try await client.send(.post, "/v1/topics", json: #"{"name":"denied","partitions":1}"#, token: alice).0 == 403)
        // Normal work.
        #expect(try await client.send(.post, "/v1/topics", json: #"{"name":"audit","partitions":1}"#, token: admin).0 == 201)
        var produced = 0
        for _ in 0..<100 where produced == 0 {
            let (status, _) = try await client.send(.post, "/v1/topics/audit/records", json: #"{"records":[{"key":"k","value":"hello"}]}"#, token: alice)
            if status == 200 { produced += 1 } else { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(produced == 1, "produce never succeeded")
        #expect(try await client.send(.get, "/v1/topics/audit/partitions/0/records?offset=0", token: admin).0 == 200)
        #expect(try await client.send(.get, "/metrics").0 == 200)
    }
}
