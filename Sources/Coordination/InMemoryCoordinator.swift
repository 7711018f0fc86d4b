import MOMCore

/// A `Coordinator` backed by an `InMemoryCoordinationStore`: standalone mode (one node, no
/// ZooKeeper to run) and tests. Several coordinators sharing one store behave like several nodes
/// sharing one ZooKeeper, each with its own session. Never stale: the store is always reachable.
public final class InMemoryCoordinator: Coordinator {
    /// The store this coordinator is a session of.
    public let store: InMemoryCoordinationStore
    private let session: UInt64

    /// Opens a session on `store` (by default a fresh, private one: standalone mode).
    public init(store: InMemoryCoordinationStore = InMemoryCoordinationStore()) {
        self.store = store
        self.session = store.openSession()
    }

    public func register(_ node: NodeID, at registration: NodeRegistration) async throws(CoordinationError) {
        try store.register(node, at: registration, session: session)
    }

    public func deregister() async throws(CoordinationError) {
        try store.deregister(session: session)
    }

    public func liveNodes() async throws(CoordinationError) -> [NodeID: NodeRegistration] {
        try store.liveNodes(session: session)
    }

    public func watchLiveNodes() -> AsyncStream<[NodeID: NodeRegistration]> {
        store.watchLiveNodes(session: session)
    }

    public func groups() async throws(CoordinationError) -> [GroupID] {
        try store.groups(session: session)
    }

    public func membership(of group: GroupID) async throws(CoordinationError) -> VersionedMembership {
        try store.membership(of: group, session: session)
    }

    public func createMembership(_ membership: GroupMembership, for group: GroupID)
        async throws(CoordinationError) -> VersionedMembership
    {
        try store.createMembership(membership, for: group, session: session)
    }

    public func compareAndSetMembership(
        _ membership: GroupMembership, for group: GroupID, expectedVersion: MembershipVersion
    ) async throws(CoordinationError) -> VersionedMembership {
        try store.compareAndSetMembership(membership, for: group, expectedVersion: expectedVersion, session: session)
    }

    public func watchMembership(of group: GroupID) -> AsyncStream<VersionedMembership?> {
        store.watchMembership(of: group, session: session)
    }

    public var sessionState: CoordinatorSessionState {
        store.isOpen(session) ? .connected : .closed
    }

    public var isStale: Bool { false }

    public func close() async {
        store.closeSession(session)
    }

    deinit {
        store.closeSession(session)
    }
}
