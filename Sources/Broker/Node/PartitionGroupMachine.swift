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

    /// Queue leaders only: offsets that a receive or a dead-letter move of this node has picked
    /// and not yet seen applied, so concurrent receives do not pick the same messages (the later
    /// claim would be rejected at apply and deliver fewer). Released when the proposal completes.
    private(set) var reservedOffsets: Set<Offset> = []
    /// How many proposals of this node wait for their queue verdict; while none do, verdicts
    /// are not kept (followers never keep any).
    private var verdictWaiters = 0
    /// Queue verdicts of applied control records by offset, kept for the proposals waiting on
    /// them; bounded by the proposals in flight (cleared whenever none waits).
    private var verdicts: [Offset: QueueApplyResult] = [:]

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
                let (record, verdict) = try state.apply(entry: entry.data, at: offset, limits: limits)
                if verdictWaiters > 0 && record.isControl && verdict != .none { verdicts[offset] = verdict }
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

    // MARK: Queue leader bookkeeping (loop thread)

    func reserve(_ offsets: [Offset]) { reservedOffsets.formUnion(offsets) }

    func release(_ offsets: [Offset]) { reservedOffsets.subtract(offsets) }

    /// Call before proposing a queue record whose verdict the caller needs.
    func expectVerdict() { verdictWaiters += 1 }

    /// Call once per `expectVerdict`, when the proposal completed; returns the verdict of the
    /// record at `offset` when it was applied (nil when the proposal failed).
    func takeVerdict(at offset: Offset?) -> QueueApplyResult? {
        let verdict = offset.flatMap { verdicts.removeValue(forKey: $0) }
        verdictWaiters -= 1
        precondition(verdictWaiters >= 0, "takeVerdict without expectVerdict")
        if verdictWaiters == 0 { verdicts.removeAll() }
        return verdict
    }
}
