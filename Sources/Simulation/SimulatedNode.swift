import MOMCore
import Raft

/// One simulated server: a Raft RawNode (absent while crashed), its disk, and its state machine.
/// The host logic around them lives in `SimulatedCluster`.
final class SimulatedNode {
    let id: NodeID
    /// Position in the cluster's sorted node list; the network addresses nodes by it.
    let position: Int
    let storage: SimulatedStorage
    var config: RaftConfig
    /// Nil while the node is down.
    var raw: RawNode?
    /// In memory only: lost on a crash, rebuilt from the snapshot on restart.
    var stateMachine: StateMachine
    /// While down: the tick at which the node restarts.
    var restartTick: UInt64 = 0
    /// The term this node was last seen leading, while it still leads.
    var leaderTerm: Term?
    /// The leader term for which leader completeness has been checked.
    var completenessCheckedTerm: Term?
    /// The commit index up to which this node's committed entries were recorded in the history.
    var recordedCommit: LogIndex
    /// Asynchronous storage writes: entries written but not yet synced (the last of them), and
    /// the messages that wait for that sync. Lost on a crash.
    var pendingSync: PendingSimulatedSync?

    init(id: NodeID, position: Int, image: DiskImage, config: RaftConfig) {
        self.id = id
        self.position = position
        self.storage = SimulatedStorage(image: image)
        self.config = config
        self.stateMachine = StateMachine(appliedIndex: image.snapshotIndex)
        self.recordedCommit = image.snapshotIndex
    }

    var isUp: Bool { raw != nil }
}

/// The unfinished sync of a simulated node with asynchronous storage writes: it will cover every
/// entry written so far, up to (`index`, `term`), and release `held` when it finishes.
struct PendingSimulatedSync {
    var index: LogIndex
    var term: Term
    var held: [Message] = []
}
