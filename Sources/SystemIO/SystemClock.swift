import Glibc
import MOMCore

/// The real clock: CLOCK_MONOTONIC for durations, CLOCK_REALTIME for record timestamps.
/// Only momd and the replication loop use it; everything else takes a `Clock`.
public struct SystemClock: Clock {
    public init() {}

    public func monotonicNanoseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
    }

    public func wallMilliseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000
    }
}
