import MOMCore
import Raft
import Replication

/// Adapts a partition's pure `PartitionStateMachine` to the replication host: applies each
/// committed entry at its offset and tracks the applied end (this replica's high watermark).
/// Loop thread only.
final class PartitionGroupMachine: GroupStateMachine, @unchecked Sendable {
    let owner: GroupOwner
    private let limits: Limits
    private(set) var state: PartitionStateMachine
    /// The offset after the last applied entry.
    private(set) var appliedEnd = Offset.zero
    /// Set when a committed entry does not decode: the log is corrupt here.
    private(set) var corruptAt: Offset?

    init(owner: GroupOwner, isQueue: Bool, maxDeliveries: Int?, limits: Limits) {
        self.owner = owner
        self.limits = limits
        self.state = isQueue ? PartitionStateMachine(queueMaxDeliveries: maxDeliveries, limits: limits) : PartitionStateMachine(limits: limits)
    }

    func apply(_ entries: [Entry], group: GroupID) {
        for entry in entries {
            let offset = GroupLogMapping.offset(of: entry.index)
            appliedEnd = offset.next
            guard entry.kind == .normal, corruptAt == nil else { continue }
            do {
                _ = try state.apply(entry: entry.data, at: offset, limits: limits)
            } catch {
                corruptAt = offset
            }
        }
    }

    func restore(_ snapshot: Snapshot, group: GroupID) {
        // Partition snapshots carry no consumer state yet (the state is rebuilt from the log);
        // retention never compacts below it until that format lands (docs/status.md).
        guard snapshot.metadata.index > .zero else { return }
        appliedEnd = GroupLogMapping.offset(of: snapshot.metadata.index).next
    }

    func snapshotData(group: GroupID) -> [UInt8] { [] }
}
