import MOMCore

/// The cluster's shared facts, and only those (DESIGN.md §1): which nodes are alive and where,
/// and which nodes replicate each Raft group. Raft elects leaders; the coordinator never does.
///
/// Two implementations: `ZooKeeperCoordinator` for clusters and `InMemoryCoordinator` for tests
/// and standalone mode. Both pass the same conformance suite.
///
/// Watches are `AsyncStream`s of whole snapshots, buffered newest-only: a slow consumer skips
/// intermediate states but always ends on the latest one. That is what a multi-Raft host wants:
/// it reconciles its groups against "the membership now", never replays a history of changes.
/// The first element of every watch is the state at the time of the call (once known).
public protocol Coordinator: AnyObject, Sendable {
    /// Announces this node as alive at `registration`. The record lives as long as the session
    /// (ZooKeeper: an ephemeral znode) and is restored after a session expiry. A coordinator
    /// registers at most one node. Throws `alreadyExists` when another live session holds `node`
    /// (for example, the previous run of this node, until its session times out).
    func register(_ node: NodeID, at registration: NodeRegistration) async throws(CoordinationError)

    /// Withdraws this node's registration (graceful shutdown). Does nothing if not registered.
    func deregister() async throws(CoordinationError)

    /// The live nodes and their addresses. Served from the last known state while the store is
    /// unreachable (`isStale` is then true).
    func liveNodes() async throws(CoordinationError) -> [NodeID: NodeRegistration]

    /// Snapshots of the live nodes: now, then after every change.
    func watchLiveNodes() -> AsyncStream<[NodeID: NodeRegistration]>

    /// The groups that have a membership record.
    func groups() async throws(CoordinationError) -> [GroupID]

    /// A group's membership and its version. Throws `notFound` if the group has none. Served from
    /// the last known state while the store is unreachable.
    func membership(of group: GroupID) async throws(CoordinationError) -> VersionedMembership

    /// Creates a group's first membership, at `MembershipVersion.initial`. Throws `alreadyExists`.
    func createMembership(_ membership: GroupMembership, for group: GroupID)
        async throws(CoordinationError) -> VersionedMembership

    /// Replaces a group's membership only if it is still at `expectedVersion`; returns the new
    /// version. Throws `conflict` when someone else changed it first, `notFound` if missing.
    func compareAndSetMembership(
        _ membership: GroupMembership, for group: GroupID, expectedVersion: MembershipVersion
    ) async throws(CoordinationError) -> VersionedMembership

    /// Snapshots of one group's membership: now, then after every change; `nil` while the group
    /// has no record.
    func watchMembership(of group: GroupID) -> AsyncStream<VersionedMembership?>

    /// The link to the store right now.
    var sessionState: CoordinatorSessionState { get }

    /// True while reads come from the last known state instead of the store.
    var isStale: Bool { get }

    /// Ends the session (removing the registration), finishes every watch stream, and makes every
    /// later operation throw `closed`. Idempotent.
    func close() async
}
