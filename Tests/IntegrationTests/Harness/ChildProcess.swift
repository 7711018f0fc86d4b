import Foundation
import Glibc

/// A child process started with posix_spawn and reaped with waitpid.
///
/// Not Foundation's `Process`: its exit notification did not arrive in the test runner, which
/// left zombies and hung tests. Waits poll `waitpid(WNOHANG)` with `Task.sleep`, so a test
/// waiting for a child never blocks a thread of the cooperative pool, and every wait is bounded.
final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    private let lock = NSLock()
    private var exitStatus: Int32?

    /// Starts `executable` with `arguments` and `environment` ("NAME=value"), stdin from
    /// /dev/null and stdout + stderr appended to `logPath` (a file, never a pipe nobody drains).
    init(executable: String, arguments: [String], environment: [String], logPath: String) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp = environment.map { strdup($0) } + [nil]
        defer { envp.forEach { free($0) } }
        var child = pid_t()
        let spawned = posix_spawn(&child, executable, &actions, nil, argv, envp)
        guard spawned == 0 else { throw HarnessError("cannot spawn \(executable): errno \(spawned)") }
        pid = child
    }

    /// Whether the child has been reaped.
    var hasExited: Bool { lock.withLock { exitStatus != nil } || reapIfExited() != nil }

    /// Sends `signalNumber` unless the child was already reaped (its pid may be reused).
    func send(_ signalNumber: Int32) {
        lock.withLock {
            if exitStatus == nil { _ = kill(pid, signalNumber) }
        }
    }

    /// The raw wait status if the child has exited (reaping it), else nil.
    @discardableResult
    func reapIfExited() -> Int32? {
        lock.withLock {
            if let exitStatus { return exitStatus }
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid || (result == -1 && errno == ECHILD) {
                exitStatus = result == pid ? status : -1
            }
            return exitStatus
        }
    }

    /// Waits up to `timeoutMilliseconds` for the child to exit; returns its wait status or nil.
    func waitForExit(timeoutMilliseconds: Int) async -> Int32? {
        let deadline = ContinuousClock.now + .milliseconds(timeoutMilliseconds)
        while ContinuousClock.now < deadline {
            if let status = reapIfExited() { return status }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return reapIfExited()
    }

    /// SIGKILL and reap (a SIGSTOPped child dies too: SIGKILL needs no cooperation).
    func killAndReap() async {
        send(SIGKILL)
        if await waitForExit(timeoutMilliseconds: 10_000) == nil {
            // A SIGKILLed child that is not reapable in 10 s is in the kernel (D state); leave it.
            print("harness: pid \(pid) did not exit 10 s after SIGKILL")
        }
    }

    /// SIGTERM (graceful stop), then SIGKILL if it has not exited within `graceMilliseconds`.
    /// Returns whether it exited on its own.
    @discardableResult
    func terminate(graceMilliseconds: Int) async -> Bool {
        send(SIGCONT)
        send(SIGTERM)
        if await waitForExit(timeoutMilliseconds: graceMilliseconds) != nil { return true }
        await killAndReap()
        return false
    }
}

/// A harness failure with a message saying what went wrong.
struct HarnessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
