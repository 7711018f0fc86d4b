import MOMCore

/// When to dial a peer again after a failed or lost connection: exponential backoff with jitter.
///
/// The delay after `n` consecutive failures is drawn uniformly from `[ceiling/2, ceiling]`
/// where `ceiling = min(maximum, initial × 2^n)` ("equal jitter"): it never drops to zero, so a
/// dead peer is not hammered, and nodes that lost the same peer at the same instant spread out
/// instead of redialling in lock-step. Pure: time and randomness are passed in.
public struct ReconnectBackoff: Sendable, Hashable {
    /// The ceiling of the first delay.
    public var initialDelayNanoseconds: UInt64
    /// The largest delay ever returned: the bound on how long a healed link stays idle.
    public var maximumDelayNanoseconds: UInt64

    /// A policy. `initial` must be positive and at most `maximum`.
    public init(initialDelayNanoseconds: UInt64 = 50_000_000, maximumDelayNanoseconds: UInt64 = 5_000_000_000) {
        precondition(initialDelayNanoseconds > 0, "initial backoff must be positive")
        precondition(initialDelayNanoseconds <= maximumDelayNanoseconds, "initial backoff exceeds the maximum")
        self.initialDelayNanoseconds = initialDelayNanoseconds
        self.maximumDelayNanoseconds = maximumDelayNanoseconds
    }

    /// The delay ceiling after `failures` consecutive failures (0 = the first retry).
    public func ceilingNanoseconds(afterFailures failures: Int) -> UInt64 {
        precondition(failures >= 0, "negative failure count")
        // Doubling past 63 steps overflows; by then the ceiling is long at the maximum anyway.
        let exponent = min(failures, 63)
        let (scaled, overflow) = initialDelayNanoseconds.multipliedReportingOverflow(by: 1 << UInt64(exponent))
        return overflow ? maximumDelayNanoseconds : min(scaled, maximumDelayNanoseconds)
    }

    /// The jittered delay after `failures` consecutive failures.
    public func delayNanoseconds<R: RandomSource>(afterFailures failures: Int, random: inout R) -> UInt64 {
        let ceiling = ceilingNanoseconds(afterFailures: failures)
        let floor = ceiling / 2
        return floor + random.uniform(below: ceiling - floor + 1)
    }
}
