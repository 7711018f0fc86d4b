import MOMCore
import Raft

/// What the host needs from the node-to-node transport. `send` never blocks: a full queue or
/// an unreachable peer drops the payload, which Raft tolerates (it retries on the next tick).
public protocol PeerLink: AnyObject, Sendable {
    func send(to peer: NodeID, group: GroupID, payload: [UInt8])
}

/// Where the loop thread waits when something else shares it: the node-to-node transport, whose
/// socket events then wake the thread that steps them (TransportDriver). Without one the loop
/// waits on its inbox's condition variable.
public protocol LoopWaiter: AnyObject, Sendable {
    /// Loop thread: does the waiter's own work and waits at most `waitMillisecondsMax` for
    /// more, or until `wake` (0: does only what is ready now).
    func poll(waitMillisecondsMax: UInt64)
    /// Any thread: ends the loop thread's `poll`.
    func wake()
    /// Loop thread, once, after its last `poll`: the loop is ending (the host stopped).
    func loopEnded()
    /// Loop thread: writes what was queued for peers now, without reading or waiting. A pass
    /// calls it once the leaders' appends are queued, so they leave before the rest of the pass
    /// (the sync hand-off, applying, publishing) rather than at the next `poll`.
    func flush()
}

extension LoopWaiter {
    public func loopEnded() {}
    public func flush() {}
}

/// The application state a group's committed entries drive (a partition's queue and cursor
/// state, the catalog). Called on the replication loop thread only, in log order.
public protocol GroupStateMachine: AnyObject {
    /// Applies committed entries, in order. Must not block.
    func apply(_ entries: [Entry], group: GroupID)
    /// Replaces the state with a snapshot's (a follower that was too far behind).
    func restore(_ snapshot: Snapshot, group: GroupID)
    /// The state to put in a snapshot taken at the last applied entry.
    func snapshotData(group: GroupID) -> [UInt8]
}

/// Why a proposal or read could not be served. Each maps to an HTTP status at the front.
public enum ReplicationError: Error, Equatable, Sendable {
    /// This node does not lead the group; `leader` is the one it knows of (forward there).
    case notLeader(leader: NodeID?)
    /// The group is not hosted on this node.
    case unknownGroup(GroupID)
    /// Too much is queued or uncommitted; retry later (503).
    case overloaded
    /// Leadership changed before the entry committed; the entry may or may not be in the log.
    case outcomeUnknown
    /// The host is stopping.
    case stopped
    /// The disk failed; the node stops serving the group.
    case storageFailed(String)
    /// The wait ran out before the condition held (long-poll).
    case timedOut
}

/// A group's state as other threads see it: published by the loop after each pass.
public struct GroupStatus: Sendable, Equatable {
    public var group: GroupID
    public var role: Role
    public var leader: NodeID?
    public var term: Term
    public var commit: LogIndex
    public var applied: LogIndex
    public var lastIndex: LogIndex
    public var firstIndex: LogIndex
    public var voters: [NodeID]
    public var learners: [NodeID]
    /// Where the configuration in force dates from; larger means newer (`Status.configurationIndex`).
    public var configurationIndex: LogIndex
    /// Per follower, how far it lags the leader's last index (leaders only).
    public var followerLag: [NodeID: UInt64]
    public var leaderChanges: UInt64
}

/// Why a membership change did not complete. The caller (a reassignment driver) retries later
/// or elsewhere; none of these leaves the group in a half-changed state.
public enum MembershipChangeError: Error, Equatable, Sendable {
    /// Changes are proposed by the leader; `leader` is the one this node knows of.
    case notLeader(leader: NodeID?)
    case unknownGroup(GroupID)
    /// A change is proposed and not yet applied, or this term's first entry is not applied yet.
    case changePending
    /// The change makes no sense for the current configuration (explained in the text).
    case invalid(String)
    /// The change removes the leader itself: leadership is being handed to `to` first; retry
    /// the removal at the new leader.
    case handingOver(to: NodeID?)
    /// The deadline passed before the change applied here (it may still apply later).
    case timedOut
    /// Leadership changed before the change committed; it may or may not be in the log.
    case outcomeUnknown
    /// Too much uncommitted; retry later.
    case overloaded
    case stopped
}
