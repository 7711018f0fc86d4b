import Foundation
import Testing
@testable import momctl

@Suite("momctl token file")
struct TokenStoreTests {
    private func temporaryDirectory() throws -> String {
        var template = Array((NSTemporaryDirectory() + "/momctl-token-XXXXXX").utf8CString)
        let made = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) })
        return String(cString: made)
    }

    private func mode(_ path: String) throws -> mode_t {
        var status = stat()
        try #require(stat(path, &status) == 0)
        return status.st_mode & 0o777
    }

    @Test("saved with mode 0600 in a new 0700 directory, read back, removed")
    func roundTrip() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/config/mom/token"
        let login = SavedLogin(server: "http://127.0.0.1:8080", user: "alice", token: "abc.def.ghi", expiresAtMilliseconds: 42)
        #expect(try TokenStore.load(from: path) == nil)
        try TokenStore.save(login, to: path)
        #expect(try mode(path) == 0o600)
        #expect(try mode(directory + "/config/mom") == 0o700)
        #expect(try TokenStore.load(from: path) == login)
        try TokenStore.save(SavedLogin(server: "s", user: "u", token: "t", expiresAtMilliseconds: 1), to: path)
        #expect(try TokenStore.load(from: path)?.user == "u")
        #expect(try TokenStore.remove(at: path))
        #expect(try !TokenStore.remove(at: path))
    }

    @Test("a token file others can read, or one that is not a token, is refused")
    func refusals() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/token"
        try TokenStore.save(SavedLogin(server: "s", user: "u", token: "t", expiresAtMilliseconds: 1), to: path)
        chmod(path, 0o644)
        #expect(throws: RuntimeFailure.self) { try TokenStore.load(from: path) }
        try Data("not json".utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o600)
        #expect(throws: RuntimeFailure.self) { try TokenStore.load(from: path) }
    }
}
