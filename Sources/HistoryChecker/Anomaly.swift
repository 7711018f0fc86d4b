/// A violation the checker found. Each class is a promise MOM makes (DESIGN.md §4, §6);
/// `docs/chaos.md` says which history lines each one is derived from.
public struct Anomaly: Hashable, Sendable, CustomStringConvertible {
    /// The broken promise.
    public enum Kind: String, CaseIterable, Hashable, Sendable, Comparable {
        /// An acknowledged write is missing from the committed log at its acknowledged offset.
        case lostWrite = "lost_write"
        /// An idempotent producer's record (one value) is committed at more than one offset.
        case duplicate = "duplicate"
        /// One offset of one partition was observed with two different values.
        case inconsistentOffset = "inconsistent_offset"
        /// A consumer read offsets going backwards.
        case nonMonotonicRead = "nonmonotonic_read"
        /// A consumer stepped over a committed record between two reads.
        case skippedRead = "skipped_read"
        /// A write that definitely failed became visible.
        case abortedRead = "aborted_read"
        /// An acknowledged write no consumer ever read, though consumers drained after healing.
        case unseenWrite = "unseen_write"
        /// Two replicas' committed prefixes differ.
        case replicaDivergence = "replica_divergence"
        /// A replica's committed log could not be read after healing.
        case replicaUnreadable = "replica_unreadable"
        /// An acknowledged queue message was never delivered (nor dead-lettered).
        case queueLost = "queue_lost"
        /// A queue message was delivered more often than `max_deliveries`.
        case queueOverDelivered = "queue_over_delivered"

        public static func < (left: Kind, right: Kind) -> Bool { left.rawValue < right.rawValue }
    }

    public let kind: Kind
    /// What was seen, with the topic, partition, offset and values involved.
    public let detail: String

    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    public var description: String { "\(kind.rawValue): \(detail)" }
}
