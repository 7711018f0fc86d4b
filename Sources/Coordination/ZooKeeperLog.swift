import CZooKeeper
import Dispatch
import Synchronization

/// Caps how many lines per second pass, and reports how many were dropped. While ZooKeeper is
/// down, libzookeeper logs a refused connection at ERROR on every reconnect attempt (about every
/// 65 ms per handle): an hour of outage would be tens of thousands of identical lines per node.
struct LogRateLimiter: Sendable {
    /// Lines admitted per one-second window.
    let linesPerSecondMax: Int
    private var windowSecond: UInt64 = 0
    private var admitted = 0
    private var suppressed = 0

    init(linesPerSecondMax: Int) {
        precondition(linesPerSecondMax > 0)
        self.linesPerSecondMax = linesPerSecondMax
    }

    /// Decides about one line logged during `second`. `suppressedBefore` is how many lines the
    /// previous window dropped, reported once at the first line of a new window.
    mutating func admit(atSecond second: UInt64) -> (admit: Bool, suppressedBefore: Int) {
        var suppressedBefore = 0
        if second != windowSecond {
            suppressedBefore = suppressed
            windowSecond = second
            admitted = 0
            suppressed = 0
        }
        guard admitted < linesPerSecondMax else {
            suppressed += 1
            return (false, suppressedBefore)
        }
        admitted += 1
        return (true, suppressedBefore)
    }
}

/// One limiter for the whole process: the C client's log level and stream are process-wide too.
private let zooKeeperLogLimiter = Mutex(LogRateLimiter(linesPerSecondMax: 5))

/// The log callback of every handle; runs on libzookeeper's threads, does a bounded write.
func zooKeeperLogLine(_ message: UnsafePointer<CChar>?) {
    guard let message else { return }
    let second = DispatchTime.now().uptimeNanoseconds / 1_000_000_000
    let decision = zooKeeperLogLimiter.withLock { $0.admit(atSecond: second) }
    if decision.suppressedBefore > 0 {
        mom_zoo_write_log_line("libzookeeper: \(decision.suppressedBefore) log lines suppressed in the previous second")
    }
    if decision.admit { mom_zoo_write_log_line(message) }
}
