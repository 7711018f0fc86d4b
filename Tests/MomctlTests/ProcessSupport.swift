import Foundation
import Glibc
import MOMClient
import Testing
import TestSupport

/// What a finished momctl process printed and returned.
struct ProcessResult {
    var status: Int32
    var output: String
    var error: String
}

/// Starts built binaries (momctl, momd) with posix_spawn, stdin from a file and output to files,
/// and waits by polling `waitpid(WNOHANG)` with `Task.sleep`, so no test blocks a thread of the
/// cooperative pool and every wait is bounded. (Foundation's `Process` leaves zombies here.)
enum Spawn {
    /// `.build/<config>/NAME`, beside the test bundle.
    static func binary(_ name: String) throws -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        var directory = length > 0 ? (String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self) as NSString).deletingLastPathComponent : ""
        for _ in 0..<4 {
            if access(directory + "/" + name, X_OK) == 0 { return directory + "/" + name }
            directory = (directory as NSString).deletingLastPathComponent
        }
        throw SpawnError("\(name) is not built beside the tests; run 'swift build' first")
    }

    static func start(_ executable: String, _ arguments: [String], environment: [String: String], input: String, output: String, error: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, input, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, error, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var child = pid_t()
        let spawned = posix_spawn(&child, executable, &actions, nil, argv, envp)
        guard spawned == 0 else { throw SpawnError("cannot spawn \(executable): errno \(spawned)") }
        return child
    }

    /// The exit status, or nil if still running after `timeoutMilliseconds` (then it is killed).
    static func wait(_ pid: pid_t, timeoutMilliseconds: Int) async -> Int32? {
        let deadline = ContinuousClock.now + .milliseconds(timeoutMilliseconds)
        while true {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                return (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
            }
            if ContinuousClock.now >= deadline { break }
            try? await Task.sleep(for: .milliseconds(20))
        }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        for _ in 0..<500 where waitpid(pid, &status, WNOHANG) != pid { try? await Task.sleep(for: .milliseconds(20)) }
        return nil
    }
}

struct SpawnError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One standalone momd (embedded coordinator, auth on, users database with an admin) in a
/// temporary directory, and a way to run momctl against it with a private token file.
final class StandaloneBroker: @unchecked Sendable {
    let directory: String
    let httpPort: UInt16
    let momctlPath: String
    private var pid: pid_t = 0
    var server: String { "http://127.0.0.1:\(httpPort)" }
    var tokenFile: String { directory + "/config/mom/token" }
    static let password = "admin-password-1"

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/momctl-it-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else { throw SpawnError("mkdtemp failed") }
        directory = String(cString: made)
        momctlPath = try Spawn.binary("momctl")
        let ports = try TestPorts.take(2)
        httpPort = ports[0]
        raftPort = ports[1]
    }

    private let raftPort: UInt16

    /// Creates the admin user, starts momd, waits for /healthz (bounded), runs `body`, stops momd.
    static func run(_ body: (StandaloneBroker) async throws -> Void) async throws {
        let broker = try StandaloneBroker()
        defer { try? FileManager.default.removeItem(atPath: broker.directory) }
        let added = try await broker.momctl(["user", "add", "admin", "--users-db", broker.directory + "/users.db", "--password-stdin", "--role", "admin"], input: password + "\n")
        try #require(added.status == 0, "user add: \(added.error)")
        broker.pid = try Spawn.start(
            try Spawn.binary("momd"),
            ["--node-id", "1", "--data-dir", broker.directory + "/data", "--http-listen", "127.0.0.1:\(broker.httpPort)",
             "--raft-listen", "127.0.0.1:\(broker.raftPort)", "--users-db", broker.directory + "/users.db", "--tick-ms", "20"],
            environment: ["MOM_SECRET_KEY": "momctl-test-secret-0123456789abcdef0123456789"],
            input: "/dev/null", output: broker.directory + "/momd.log", error: broker.directory + "/momd.err")
        defer {
            kill(broker.pid, SIGKILL)
            var status: Int32 = 0
            waitpid(broker.pid, &status, 0)
        }
        let client = try MOMClient(servers: [broker.server], credentials: nil)
        let deadline = ContinuousClock.now + .seconds(30)
        while (try? await client.health()) == nil {
            guard ContinuousClock.now < deadline else { throw SpawnError("momd did not answer /healthz in 30 s; see \(broker.directory)/momd.err") }
            try await Task.sleep(for: .milliseconds(100))
        }
        try await body(broker)
    }

    /// Runs momctl with `--server` unset (the token file names it) and a private token file.
    func momctl(_ arguments: [String], input: String = "", environment extra: [String: String] = [:]) async throws -> ProcessResult {
        let id = UUID().uuidString
        let inputPath = directory + "/in-\(id)"
        let outputPath = directory + "/out-\(id)"
        let errorPath = directory + "/err-\(id)"
        try Data(input.utf8).write(to: URL(fileURLWithPath: inputPath))
        var environment = ["PATH": "/usr/bin:/bin", "HOME": directory + "/home", "MOM_TOKEN_FILE": tokenFile]
        environment.merge(extra) { _, new in new }
        let pid = try Spawn.start(momctlPath, arguments, environment: environment, input: inputPath, output: outputPath, error: errorPath)
        let status = await Spawn.wait(pid, timeoutMilliseconds: 60_000)
        return ProcessResult(
            status: status ?? -1,
            output: (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? "",
            error: (try? String(contentsOfFile: errorPath, encoding: .utf8)) ?? "")
    }
}

/// Parses one JSON document (a test failure, not a crash, when it is not JSON).
func parseJSON(_ text: String) throws -> Any {
    try JSONSerialization.jsonObject(with: Data(text.utf8))
}
