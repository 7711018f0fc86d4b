@testable import Auth
import Foundation
import MOMCore
import Testing

/// The result of running the built momctl binary.
private struct Run {
    var status: Int32
    var output: String
    var error: String
    var all: String { output + error }
}

/// `.build/<config>/momctl`: beside the test bundle, which SwiftPM builds into the same directory.
private func momctlPath() -> String? {
    var candidates: [String] = []
    if let executable = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
        candidates.append(URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("momctl").path)
    }
    for bundle in Bundle.allBundles {
        candidates.append(bundle.bundleURL.deletingLastPathComponent().appendingPathComponent("momctl").path)
    }
    return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
}

private func momctl(_ arguments: [String], input: String? = nil) throws -> Run {
    let path = try #require(momctlPath(), "momctl is not built beside the test bundle; run 'swift build' first")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.environment = ["PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"]
    let output = Pipe()
    let error = Pipe()
    process.standardOutput = output
    process.standardError = error
    let inputPipe = Pipe()
    process.standardInput = input == nil ? FileHandle.nullDevice : inputPipe
    try process.run()
    if let input {
        inputPipe.fileHandleForWriting.write(Data(input.utf8))
        try inputPipe.fileHandleForWriting.close()
    }
    // Outputs are a few lines, far below a pipe's buffer, so reading after exit cannot block it.
    process.waitUntilExit()
    return Run(
        status: process.terminationStatus,
        output: String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self),
        error: String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
}

@Suite("momctl user (the built binary)")
struct MomctlUserTests {
    let directory: String
    var database: String { directory + "/users.db" }

    init() throws { directory = try makeTemporaryDirectory() }

    @Test("add, list, remove with exit codes 0 and 1, and a 0600 file")
    func addListRemove() throws {
        defer { removeDirectory(directory) }
        let added = try momctl(["user", "add", "alice", "--users-db", database, "--password-stdin", "--role", "admin"],
                               input: "first-password\n")
        #expect(added.status == 0, "\(added.error)")
        #expect(added.output.contains("added user 'alice' with role admin"))
        #expect(try permissionBits(database) == 0o600)

        let again = try momctl(["user", "add", "alice", "--users-db", database, "--password-stdin"], input: "x\n")
        #expect(again.status == 1)
        #expect(again.error.contains("user 'alice' already exists"))

        #expect(chmod(database, 0o644) == 0)
        let table = try momctl(["user", "list", "--users-db", database])
        #expect(table.status == 0)
        #expect(table.error.contains("had mode 0644; changed it to 0600"))
        #expect(try permissionBits(database) == 0o600)
        #expect(table.output.contains("NAME") && table.output.contains("alice") && table.output.contains("admin"))

        let json = try momctl(["user", "list", "--users-db", database, "--output", "json"])
        #expect(json.status == 0)
        let parsed = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
        let users = try #require(parsed?["users"] as? [[String: Any]])
        #expect(users.count == 1)
        #expect(users.first?["name"] as? String == "alice" && users.first?["role"] as? String == "admin")
        #expect(users.first?["created_ms"] is NSNumber)

        #expect(try momctl(["user", "remove", "alice", "--users-db", database]).status == 0)
        let missing = try momctl(["user", "remove", "alice", "--users-db", database])
        #expect(missing.status == 1)
        #expect(missing.error.contains("user 'alice' does not exist"))
        #expect(try momctl(["user", "list", "--users-db", database, "--output", "json"]).output == "{\"users\":[]}\n")
    }

    @Test("usage errors exit 2 and --help works on every command")
    func usage() throws {
        defer { removeDirectory(directory) }
        #expect(try momctl([]).status == 2)
        #expect(try momctl(["frobnicate"]).status == 2)
        #expect(try momctl(["user"]).status == 2)
        #expect(try momctl(["user", "rename"]).status == 2)
        #expect(try momctl(["user", "add", "alice", "--users-db", database]).status == 2)
        #expect(try momctl(["user", "add", "--users-db", database, "--password-stdin"], input: "pw").status == 2)
        #expect(try momctl(["user", "add", "alice", "--password-stdin"], input: "pw").status == 2)
        #expect(try momctl(["user", "add", "alice", "--users-db", database, "--password-stdin", "--role", "root"],
                           input: "pw").status == 2)
        #expect(try momctl(["user", "add", "bad/name", "--users-db", database, "--password-stdin"], input: "pw").status == 2)
        #expect(try momctl(["user", "list", "--users-db", database, "--output", "yaml"]).status == 2)
        #expect(try momctl(["user", "list", "--users-db", database, "--verbose"]).status == 2)
        #expect(try momctl(["user", "list", "--users-db", database, "extra"]).status == 2)
        let missingDatabase = try momctl(["user", "list", "--users-db", directory + "/none.db"])
        #expect(missingDatabase.status == 1)
        #expect(missingDatabase.error.contains("does not exist"))
        #expect(!FileManager.default.fileExists(atPath: directory + "/none.db"))
        for command in [["--help"], ["user", "--help"], ["user", "add", "--help"], ["user", "list", "--help"],
                        ["user", "remove", "--help"], ["user", "passwd", "--help"]] {
            let help = try momctl(command)
            #expect(help.status == 0, "\(command)")
            #expect(help.output.contains("usage:"), "\(command)")
        }
    }

    @Test("passwd changes the password; stdin rules: one newline stripped, empty / multi-line / oversize refused")
    func passwordInput() throws {
        defer { removeDirectory(directory) }
        let add = ["user", "add", "bob", "--users-db", database, "--password-stdin"]
        #expect(try momctl(add, input: "").status == 1)
        #expect(try momctl(add, input: "\n").status == 1)
        #expect(try momctl(add, input: "one\ntwo\n").status == 1)
        #expect(try momctl(add, input: String(repeating: "p", count: 1025)).status == 1)
        #expect(try momctl(add, input: "old-password").status == 0)
        let passwd = try momctl(["user", "passwd", "bob", "--users-db", database, "--password-stdin"],
                                input: "new-password\r\n")
        #expect(passwd.status == 0, "\(passwd.error)")
        #expect(try momctl(["user", "passwd", "carol", "--users-db", database, "--password-stdin"], input: "x").status == 1)
        let store = try UserStore(path: database, createIfMissing: false, clock: ManualClock())
        #expect(try store.verify(name: "bob", password: "new-password").role == .consumer)
        #expect(throws: UserStoreError.invalidCredentials) { try store.verify(name: "bob", password: "old-password") }
    }

    @Test("nothing momctl prints contains a password or a hash")
    func noLeaks() throws {
        defer { removeDirectory(directory) }
        let first = "Canary-First-91bd"
        let second = "Canary-Second-c0e2"
        var runs: [Run] = []
        runs.append(try momctl(["user", "add", "dave", "--users-db", database, "--password-stdin"], input: first + "\n"))
        runs.append(try momctl(["user", "add", "dave", "--users-db", database, "--password-stdin"], input: first))
        runs.append(try momctl(["user", "list", "--users-db", database]))
        runs.append(try momctl(["user", "list", "--users-db", database, "--output", "json"]))
        runs.append(try momctl(["user", "passwd", "dave", "--users-db", database, "--password-stdin"], input: second))
        // A password typed as an argument by mistake is not echoed back.
        runs.append(try momctl(["user", "add", "dave", second, "--users-db", database, "--password-stdin"], input: "x"))
        runs.append(try momctl(["user", "add", "erin", "--users-db", database, "--password=" + second]))
        let store = try UserStore(path: database, createIfMissing: false, clock: ManualClock())
        let row = try #require(try store.fetchCredential(UserName("dave")))
        let secrets = [first, second, hex(row.hash), hex(row.salt), Base64URL.encode(row.hash),
                       Data(row.hash).base64EncodedString()]
        for run in runs {
            for secret in secrets {
                #expect(!run.all.contains(secret), "\(run.all)")
            }
        }
    }
}
