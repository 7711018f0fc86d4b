import MOMCore
import Raft
import Replication
import SystemIO

/// A partition group's consumer-facing state, rebuilt by applying its own log in order: the
/// producer-dedup table and, for queue partitions, claims and acks. Because it lives in the same
/// group as the data, it fails over together with it.
final class PartitionStateMachine: GroupStateMachine, @unchecked Sendable {
    let owner: GroupOwner
    private let limits: Limits
    /// Loop thread only.
    private(set) var dedup: ProducerDedup
    private(set) var queue: QueuePartitionState?
    private(set) var cursors: SubscriptionCursors
    /// The offset after the last applied entry: the high watermark as this replica knows it.
    private(set) var appliedEnd = Offset.zero

    init(owner: GroupOwner, isQueue: Bool, maxDeliveries: Int?, limits: Limits) {
        self.owner = owner
        self.limits = limits
        self.dedup = ProducerDedup(limits: limits)
        self.cursors = SubscriptionCursors(limits: limits)
        if isQueue { self.queue = QueuePartitionState(maxDeliveries: maxDeliveries, limits: limits) }
    }

    func apply(_ entries: [Entry], group: GroupID) {
        for entry in entries {
            let offset = GroupLogMapping.offset(of: entry.index)
            appliedEnd = offset.next
            guard entry.kind == .normal else { continue }
            guard let record = try? PartitionRecord.decode(entry.data, limits: limits) else { continue }
            dedup.apply(record, at: offset)
            cursors.apply(record)
            _ = queue?.apply(record, at: offset)
        }
    }

    func restore(_ snapshot: Snapshot, group: GroupID) {
        // Partition snapshots carry no state yet: retention that compacts below a consumer's
        // state is refused until the partition snapshot format lands (docs/status.md).
        guard snapshot.metadata.index > .zero else { return }
        appliedEnd = GroupLogMapping.offset(of: snapshot.metadata.index).next
    }

    func snapshotData(group: GroupID) -> [UInt8] { [] }
}
