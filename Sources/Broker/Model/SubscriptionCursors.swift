import MOMCore

/// The committed cursors of every subscription in one topic partition, rebuilt by applying the
/// partition's `subscriptionCommit` / `subscriptionDelete` records in log order (the way Kafka's
/// `__consumer_offsets` is replayed, but inside the partition's own group so it fails over with
/// the data).
///
/// A cursor belongs to a subscription incarnation (`subscriptionID` from the catalog): a commit
/// from an older incarnation than the stored one is ignored, so delete-and-recreate starts clean.
/// At most `Limits.subscriptionsPerTopicMax` cursors are kept, the same bound the catalog puts on
/// live subscriptions; at the bound a commit for a new name evicts the lowest incarnation
/// (the oldest-created, most likely deleted), deterministically.
struct SubscriptionCursors: Equatable, Sendable {
    struct Cursor: Hashable, Sendable {
        let subscriptionID: UInt64
        let offset: Offset
    }

    /// What a commit did.
    enum CommitOutcome: Hashable, Sendable {
        case committed
        /// From an incarnation older than the stored cursor's; ignored.
        case staleIncarnation
    }

    let limits: Limits
    private(set) var cursors: [String: Cursor] = [:]

    init(limits: Limits = .standard) { self.limits = limits }

    static func == (a: Self, b: Self) -> Bool { a.cursors == b.cursors }

    /// The next offset `subscription` reads here: its committed cursor, or the catalog's start
    /// offset when it has committed nothing (or only under an older incarnation).
    func position(of subscription: SubscriptionConfig, partition: PartitionID) -> Offset {
        if let cursor = cursors[subscription.name], cursor.subscriptionID == subscription.id { return cursor.offset }
        let index = Int(partition.rawValue)
        return index < subscription.startOffsets.count ? subscription.startOffsets[index] : .zero
    }

    /// Records between the cursor and the high watermark; zero when the cursor is at or past it.
    func lag(of subscription: SubscriptionConfig, partition: PartitionID, highWatermark: Offset) -> UInt64 {
        let position = position(of: subscription, partition: partition)
        return position < highWatermark ? position.distance(to: highWatermark) : 0
    }

    mutating func apply(_ commit: SubscriptionCommit) -> CommitOutcome {
        if let existing = cursors[commit.subscription] {
            guard commit.subscriptionID >= existing.subscriptionID else { return .staleIncarnation }
        } else if cursors.count >= limits.subscriptionsPerTopicMax {
            let oldest = cursors.min { ($0.value.subscriptionID, $0.key) < ($1.value.subscriptionID, $1.key) }!
            cursors[oldest.key] = nil
        }
        cursors[commit.subscription] = Cursor(subscriptionID: commit.subscriptionID, offset: commit.offset)
        return .committed
    }

    mutating func apply(_ delete: SubscriptionDelete) {
        if let existing = cursors[delete.subscription], existing.subscriptionID <= delete.subscriptionID {
            cursors[delete.subscription] = nil
        }
    }

    /// Applies the partition record at `offset`; records other than cursor records are ignored.
    /// A commit of exactly its own offset ("everything before this record") also covers the
    /// record itself — a control record no reader will see — so the cursor moves past it.
    /// Otherwise every commit at the high watermark would leave a lag of one (its own record).
    mutating func apply(_ record: PartitionRecord, at offset: Offset) {
        if case .subscriptionCommit(let commit) = record, commit.offset == offset {
            _ = apply(SubscriptionCommit(subscription: commit.subscription, subscriptionID: commit.subscriptionID, offset: offset.next))
            return
        }
        apply(record)
    }

    /// Applies any partition record; records other than cursor records are ignored.
    mutating func apply(_ record: PartitionRecord) {
        switch record {
        case .subscriptionCommit(let commit): _ = apply(commit)
        case .subscriptionDelete(let delete): apply(delete)
        default: break
        }
    }
}
