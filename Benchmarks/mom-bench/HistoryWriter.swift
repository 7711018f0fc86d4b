import Glibc
import HistoryChecker
import SystemIO

/// Appends history lines to a file from many threads. Each line is one `write` on an O_APPEND
/// descriptor under a lock, so a kill leaves at most one torn last line (which the checker
/// tolerates) and lines never interleave.
final class HistoryWriter: @unchecked Sendable {
    private let lock = ConditionMutex()
    private let descriptor: Int32
    private let startNanoseconds: UInt64
    private let clock = SystemClock()

    init(path: String) throws {
        descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw BenchNetworkError(description: "cannot open history file \(path): errno \(errno)") }
        startNanoseconds = clock.monotonicNanoseconds()
    }

    deinit { Glibc.close(descriptor) }

    /// Stamps `event` with the time since this writer opened and appends it.
    func append(_ event: HistoryEvent) {
        var stamped = event
        if stamped.timeNanoseconds == nil { stamped.timeNanoseconds = clock.monotonicNanoseconds() - startNanoseconds }
        let line = HistoryFile.encodeLine(stamped) + [UInt8(ascii: "\n")]
        lock.withLock {
            line.withUnsafeBytes { raw in
                var written = 0
                // Bounded: each pass writes at least one byte or stops on an error.
                while written < raw.count {
                    let result = Glibc.write(descriptor, raw.baseAddress! + written, raw.count - written)
                    if result < 0 && errno == EINTR { continue }
                    guard result > 0 else { return }
                    written += result
                }
            }
        }
    }
}

/// Prints a line straight to standard output (one write, no stdio buffer), so a chaos tool's
/// log shows every line even when the tool is killed.
func say(_ line: String) { writeAll(1, line + "\n") }
