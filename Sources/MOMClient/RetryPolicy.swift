/// How hard the client tries before giving up. Why bounded in count AND time: a count alone
/// can wait forever behind slow timeouts; a time budget alone can hammer a server.
public struct RetryPolicy: Sendable {
    /// Attempts per call including the first (1 disables retries).
    public var attemptsMax: Int
    /// The whole call, across attempts and backoff, gives up after this long.
    public var totalMilliseconds: UInt64
    /// The first backoff; each later one doubles, up to `backoffMillisecondsMax`.
    public var backoffInitialMilliseconds: UInt64
    /// The backoff ceiling.
    public var backoffMillisecondsMax: UInt64

    /// Defaults suited to a leader election (a few hundred ms) finishing within the budget.
    public init(
        attemptsMax: Int = 6, totalMilliseconds: UInt64 = 15_000,
        backoffInitialMilliseconds: UInt64 = 50, backoffMillisecondsMax: UInt64 = 2_000
    ) {
        self.attemptsMax = max(1, attemptsMax)
        self.totalMilliseconds = totalMilliseconds
        self.backoffInitialMilliseconds = backoffInitialMilliseconds
        self.backoffMillisecondsMax = max(backoffMillisecondsMax, backoffInitialMilliseconds)
    }

    /// Backoff before attempt `retry + 1` (retry counts from 0): "full jitter", a uniform draw
    /// in [cap/2, cap], so many clients retrying after one failure do not stampede in step.
    /// A server's `Retry-After` raises the floor. `unit` is a uniform draw in [0, 1).
    func backoffMilliseconds(retry: Int, retryAfterSeconds: UInt64?, unit: Double) -> UInt64 {
        let shift = UInt64(min(retry, 30))
        let exponential = backoffInitialMilliseconds.multipliedReportingOverflow(by: 1 << shift)
        let cap = exponential.overflow ? backoffMillisecondsMax : min(exponential.partialValue, backoffMillisecondsMax)
        let jittered = cap / 2 + UInt64(Double(cap - cap / 2) * min(max(unit, 0), 1))
        if let seconds = retryAfterSeconds {
            return max(jittered, min(seconds.multipliedReportingOverflow(by: 1_000).partialValue, backoffMillisecondsMax))
        }
        return jittered
    }
}
