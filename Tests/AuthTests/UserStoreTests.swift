@testable import Auth
import Foundation
import MOMCore
import Synchronization
import Testing

/// Most tests use a cheap policy so they do not spend 100 ms per hash; the production floor has
/// its own tests below.
private let fastPolicy = PasswordPolicy.insecureForTestsOnly(iterations: 1_000)

@Suite("users in SQLite")
struct UserStoreTests {
    let directory: String
    let clock = ManualClock()

    init() throws { directory = try makeTemporaryDirectory() }

    func openStore(_ name: String = "users.db", policy: PasswordPolicy = fastPolicy) throws -> UserStore {
        try UserStore(path: directory + "/" + name, policy: policy, clock: clock)
    }

    @Test("add, list, verify, change password, remove")
    func crud() throws {
        defer { removeDirectory(directory) }
        let store = try openStore()
        try store.add(name: "carol", password: "pass-c", role: .consumer)
        clock.advance(byMilliseconds: 5)
        try store.add(name: "alice", password: "pass-a", role: .admin)
        #expect(try store.list() == [
            UserSummary(name: "alice", role: .admin, createdMilliseconds: 1_700_000_000_005),
            UserSummary(name: "carol", role: .consumer, createdMilliseconds: 1_700_000_000_000),
        ])
        #expect(try store.verify(name: "alice", password: "pass-a").role == .admin)
        #expect(throws: UserStoreError.userExists("alice")) {
            try store.add(name: "alice", password: "other", role: .producer)
        }
        try store.setPassword(name: "alice", password: "new-pass")
        #expect(throws: UserStoreError.invalidCredentials) { try store.verify(name: "alice", password: "pass-a") }
        #expect(try store.verify(name: "alice", password: "new-pass").name == "alice")
        try store.remove(name: "alice")
        #expect(throws: UserStoreError.userNotFound("alice")) { try store.remove(name: "alice") }
        #expect(throws: UserStoreError.userNotFound("alice")) { try store.setPassword(name: "alice", password: "x") }
        #expect(try store.list().map(\.name) == ["carol"])
    }

    @Test("wrong password and unknown user give the same error")
    func wrongPassword() throws {
        defer { removeDirectory(directory) }
        let store = try openStore()
        try store.add(name: "alice", password: "correct horse", role: .producer)
        #expect(throws: UserStoreError.invalidCredentials) { try store.verify(name: "alice", password: "correct horsE") }
        #expect(throws: UserStoreError.invalidCredentials) { try store.verify(name: "alice", password: "") }
        #expect(throws: UserStoreError.invalidCredentials) { try store.verify(name: "nobody", password: "correct horse") }
        #expect(throws: UserStoreError.invalidCredentials) { try store.verify(name: "bad name", password: "x") }
    }

    @Test("each user gets its own random 16-byte salt and a 32-byte hash")
    func saltsDiffer() throws {
        defer { removeDirectory(directory) }
        let store = try openStore()
        try store.add(name: "a", password: "same", role: .consumer)
        try store.add(name: "b", password: "same", role: .consumer)
        let first = try #require(try store.fetchCredential(UserName("a")))
        let second = try #require(try store.fetchCredential(UserName("b")))
        #expect(first.salt.count == 16 && first.hash.count == 32)
        #expect(first.salt != second.salt)
        #expect(first.hash != second.hash)
    }

    @Test("the database is created with mode 0600 and no sidecar file is left readable")
    func fileMode() throws {
        defer { removeDirectory(directory) }
        let store = try openStore()
        try store.add(name: "alice", password: "pw", role: .admin)
        #expect(try permissionBits(directory + "/users.db") == 0o600)
        #expect(store.repairedFileMode == nil)
        for file in try FileManager.default.contentsOfDirectory(atPath: directory) {
            #expect(try permissionBits(directory + "/" + file) & 0o077 == 0, "\(file)")
        }
    }

    @Test("a looser mode on an existing file is tightened to 0600 and reported")
    func repairsMode() throws {
        defer { removeDirectory(directory) }
        let path = directory + "/users.db"
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        #expect(chmod(path, 0o644) == 0)
        // An empty journal left beside it (as after a crash) is made private before SQLite reads it.
        #expect(FileManager.default.createFile(atPath: path + "-journal", contents: nil))
        #expect(chmod(path + "-journal", 0o644) == 0)
        let store = try openStore()
        #expect(store.repairedFileMode == 0o644)
        #expect(try permissionBits(path) == 0o600)
        if FileManager.default.fileExists(atPath: path + "-journal") {
            #expect(try permissionBits(path + "-journal") == 0o600)
        }
        try store.add(name: "alice", password: "pw", role: .admin)
        #expect(try store.list().map(\.name) == ["alice"])
    }

    @Test("concurrent logins and writes from several threads are serialized safely")
    func concurrentUse() throws {
        defer { removeDirectory(directory) }
        let store = try openStore()
        for index in 0..<4 { try store.add(name: "user\(index)", password: "pw\(index)", role: .consumer) }
        let failures = Mutex(0)
        DispatchQueue.concurrentPerform(iterations: 8) { worker in
            let index = worker % 4
            for _ in 0..<10 {
                let verified = (try? store.verify(name: "user\(index)", password: "pw\(index)")) != nil
                let listed = (try? store.list().count) == 4
                if !verified || !listed { failures.withLock { $0 += 1 } }
            }
        }
        #expect(failures.withLock { $0 } == 0)
    }

    @Test("a symbolic link, a directory, or a missing file when not creating, is refused")
    func refusesUnsafePaths() throws {
        defer { removeDirectory(directory) }
        #expect(symlink(directory + "/target.db", directory + "/link.db") == 0)
        #expect(throws: UserStoreError.self) { try openStore("link.db") }
        #expect(!FileManager.default.fileExists(atPath: directory + "/target.db"))
        #expect(mkdir(directory + "/dir.db", 0o700) == 0)
        #expect(throws: UserStoreError.self) { try openStore("dir.db") }
        let missing = directory + "/missing.db"
        #expect(throws: UserStoreError.databaseMissing(path: missing)) {
            try UserStore(path: missing, createIfMissing: false, policy: fastPolicy, clock: clock)
        }
    }

    @Test("names are validated: non-empty, at most 64 bytes, [A-Za-z0-9._-], no leading '-'")
    func names() throws {
        defer { removeDirectory(directory) }
        let store = try openStore()
        for good in ["a", "Alice.B_c-9", String(repeating: "x", count: 64)] {
            try store.add(name: good, password: "pw", role: .consumer)
        }
        for bad in ["", String(repeating: "x", count: 65), "a b", "a/b", "é", "-rf", "a'; DROP TABLE users;--"] {
            #expect(throws: UserStoreError.self, "\(bad)") { try store.add(name: bad, password: "pw", role: .consumer) }
        }
        #expect(try store.list().count == 3)
    }

    @Test("passwords must be 1 to 1024 bytes")
    func passwords() throws {
        defer { removeDirectory(directory) }
        let store = try openStore()
        #expect(throws: UserStoreError.self) { try store.add(name: "a", password: "", role: .consumer) }
        let long = String(repeating: "p", count: 1025)
        #expect(throws: UserStoreError.self) { try store.add(name: "a", password: long, role: .consumer) }
        try store.add(name: "a", password: String(repeating: "p", count: 1024), role: .consumer)
    }

    @Test("a second process-like handle sees changes made through the first")
    func twoHandles() throws {
        defer { removeDirectory(directory) }
        let writer = try openStore()
        let reader = try openStore()
        try writer.add(name: "alice", password: "pw", role: .admin)
        #expect(try reader.verify(name: "alice", password: "pw").role == .admin)
    }
}

@Suite("the production hashing floor")
struct PasswordPolicyTests {
    @Test("the production policy and the default store use at least 210,000 iterations")
    func productionDefault() throws {
        #expect(PasswordPolicy.minimumIterations >= 210_000)
        #expect(PasswordPolicy.production.iterations >= 210_000)
        #expect(PasswordPolicy.production.verifyingIterationsMinimum >= 210_000)
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let store = try UserStore(path: directory + "/users.db", clock: ManualClock())
        #expect(store.policy == .production)
        // Two real 210k-iteration hashes: what momd and momctl do.
        try store.add(name: "alice", password: "pw", role: .admin)
        #expect(try store.fetchCredential(UserName("alice"))?.iterations == 210_000)
        #expect(try store.verify(name: "alice", password: "pw").role == .admin)
    }

    @Test("a public policy weaker than 210,000 iterations is refused")
    func weakPolicyRefused() throws {
        #expect(throws: UserStoreError.weakPasswordPolicy(iterations: 209_999)) {
            try PasswordPolicy(iterations: 209_999)
        }
        #expect(try PasswordPolicy(iterations: 300_000).iterations == 300_000)
    }

    @Test("a production store refuses to verify a stored hash below the floor")
    func weakStoredHashRefused() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let path = directory + "/users.db"
        let weak = try UserStore(
            path: path, policy: .insecureForTestsOnly(iterations: 1_000), clock: ManualClock())
        try weak.add(name: "alice", password: "pw", role: .admin)
        #expect(try weak.verify(name: "alice", password: "pw").name == "alice")
        let production = try UserStore(path: path, clock: ManualClock())
        #expect(throws: UserStoreError.weakStoredHash(user: "alice", iterations: 1_000)) {
            try production.verify(name: "alice", password: "pw")
        }
    }
}

@Suite("no credential leaks from the store")
struct UserStoreLeakTests {
    @Test("errors and descriptions never contain the password, salt or hash")
    func noLeaks() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let canary = "Canary-Password-7f3a"
        let store = try UserStore(
            path: directory + "/users.db", policy: .insecureForTestsOnly(iterations: 1_000), clock: ManualClock())
        try store.add(name: "alice", password: canary, role: .admin)
        let row = try #require(try store.fetchCredential(UserName("alice")))
        var texts: [String] = [String(describing: row), String(reflecting: row)]
        texts.append(String(describing: StoredCredential(salt: row.salt, hash: row.hash, iterations: 1)))
        texts.append(String(describing: try store.list()))
        let attempts: [() throws -> Void] = [
            { try store.add(name: "alice", password: canary, role: .admin) },
            { _ = try store.verify(name: "alice", password: canary + "x") },
            { _ = try store.verify(name: "bob", password: canary) },
            { try store.add(name: "bad name", password: canary, role: .admin) },
            { try store.add(name: "x", password: canary + String(repeating: "!", count: 2000), role: .admin) },
            { try store.setPassword(name: "nobody", password: canary) },
        ]
        for attempt in attempts {
            do {
                try attempt()
                Issue.record("expected an error")
            } catch {
                texts.append(String(describing: error))
                texts.append(String(reflecting: error))
            }
        }
        let secrets = [canary, hex(row.hash), hex(row.salt), Base64URL.encode(row.hash)]
        for text in texts {
            for secret in secrets {
                #expect(!text.contains(secret), "\(text)")
            }
        }
    }
}

@Suite("login: password check then token")
struct AuthenticatorTests {
    @Test("a correct login yields a token carrying the stored role; failures all read the same to clients")
    func login() throws {
        let directory = try makeTemporaryDirectory()
        defer { removeDirectory(directory) }
        let clock = ManualClock()
        let key = try SigningKey(secret: "test-secret-that-is-long-enough-0123456789")
        let store = try UserStore(path: directory + "/users.db", policy: fastPolicy, clock: clock)
        try store.add(name: "paula", password: "pw", role: .producer)
        let authenticator = Authenticator(store: store, issuer: TokenIssuer(key: key, clock: clock))
        let issued = try authenticator.login(name: "paula", password: "pw")
        let claims = try TokenVerifier(key: key, clock: clock).verify(issued.token)
        #expect(claims.subject == "paula" && claims.role == .producer)
        #expect(throws: UserStoreError.invalidCredentials) { try authenticator.login(name: "paula", password: "no") }
        let generic = UserStoreError.invalidCredentials.clientMessage
        #expect(UserStoreError.weakStoredHash(user: "paula", iterations: 1).clientMessage == generic)
        #expect(UserStoreError.corruptRecord(user: "paula", reason: "x").clientMessage == generic)
        let databaseError = UserStoreError.database(path: "/secret/path.db", operation: "step", code: 5, message: "locked")
        #expect(!databaseError.clientMessage.contains("/secret/path.db"))
        #expect(databaseError.httpStatus == 500 && UserStoreError.invalidCredentials.httpStatus == 401)
    }
}
