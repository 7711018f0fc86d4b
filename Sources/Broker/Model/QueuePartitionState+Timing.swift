import MOMCore

extension QueuePartitionState {
    /// The earliest claim deadline after `nowMilliseconds`: when the next message becomes
    /// deliverable again (or due for the dead-letter queue) without any new record. A waiting
    /// receive sleeps at most until then. nil when no claim is running. O(tracked). Pure.
    func nextDeadlineMilliseconds(after nowMilliseconds: UInt64) -> UInt64? {
        var earliest: UInt64?
        for message in tracked.values where message.deadlineMilliseconds > nowMilliseconds {
            earliest = Swift.min(earliest ?? .max, message.deadlineMilliseconds)
        }
        return earliest
    }

    /// The counters of `GET /v1/queues/{q}` for this partition at `nowMilliseconds`.
    func statistics(nowMilliseconds: UInt64) -> QueuePartitionStatistics {
        let inFlight = UInt64(inFlight(nowMilliseconds: nowMilliseconds))
        return QueuePartitionStatistics(
            depth: depth - inFlight, inFlight: inFlight, deadLettered: deadLetteredCount, acknowledged: acknowledgedCount)
    }
}

/// One queue partition's counters. `depth` counts messages waiting for a receiver (never
/// delivered, or whose claim expired, including ones due for the dead-letter queue); messages
/// under an unexpired claim are `inFlight` instead, as SQS splits "visible" and "not visible".
struct QueuePartitionStatistics: Hashable, Sendable {
    var depth: UInt64 = 0
    var inFlight: UInt64 = 0
    var deadLettered: UInt64 = 0
    var acknowledged: UInt64 = 0

    static func + (a: Self, b: Self) -> Self {
        Self(depth: a.depth + b.depth, inFlight: a.inFlight + b.inFlight,
             deadLettered: a.deadLettered + b.deadLettered, acknowledged: a.acknowledged + b.acknowledged)
    }
}
