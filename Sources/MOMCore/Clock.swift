/// Time is injected (STYLE.md habit 2): only momd and the replication loop read the real clock.
public protocol Clock: Sendable {
    /// Monotonic time for timeouts and latency, in nanoseconds from an arbitrary origin.
    func monotonicNanoseconds() -> UInt64
    /// Wall-clock time for record timestamps, in milliseconds since the Unix epoch.
    func wallMilliseconds() -> Int64
}

/// A clock that moves only when a test advances it.
public final class ManualClock: Clock, @unchecked Sendable {
    // Guarded by the single-threaded use of tests and the simulator; no lock on purpose.
    private var nanoseconds: UInt64
    private var wallOriginMilliseconds: Int64

    public init(startNanoseconds: UInt64 = 0, wallOriginMilliseconds: Int64 = 1_700_000_000_000) {
        self.nanoseconds = startNanoseconds
        self.wallOriginMilliseconds = wallOriginMilliseconds
    }

    public func advance(byNanoseconds delta: UInt64) { nanoseconds += delta }
    public func advance(byMilliseconds delta: UInt64) { nanoseconds += delta * 1_000_000 }

    public func monotonicNanoseconds() -> UInt64 { nanoseconds }
    public func wallMilliseconds() -> Int64 { wallOriginMilliseconds + Int64(nanoseconds / 1_000_000) }
}
