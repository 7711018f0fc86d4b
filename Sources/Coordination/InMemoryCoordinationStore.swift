import MOMCore
import Synchronization

/// The shared state behind `InMemoryCoordinator`s: what a ZooKeeper ensemble is to
/// `ZooKeeperCoordinator`s. One store per simulated cluster; each coordinator is one session.
/// It has the same semantics as the ZooKeeper layout: a registration is owned by its session and
/// disappears when that session closes; a membership version starts at 0 and grows by one per
/// compare-and-set.
public final class InMemoryCoordinationStore: Sendable {
    typealias NodesSnapshot = [NodeID: NodeRegistration]

    private struct Registration {
        var registration: NodeRegistration
        var owner: UInt64
    }

    /// One coordinator's watches; the key of `nodeWatchers` is a placeholder (there is one list).
    private struct Session {
        var nodeWatchers = WatchRegistry<Int, NodesSnapshot>()
        var groupWatchers = WatchRegistry<GroupID, VersionedMembership?>()
        var watcherCount: Int { nodeWatchers.count + groupWatchers.count }
    }

    private struct State {
        var nodes: [NodeID: Registration] = [:]
        var groups: [GroupID: VersionedMembership] = [:]
        var sessions: [UInt64: Session] = [:]
        var nextSession: UInt64 = 0

        var nodesSnapshot: NodesSnapshot { nodes.mapValues(\.registration) }

        mutating func publishNodes() {
            let snapshot = nodesSnapshot
            for key in sessions.keys { sessions[key]?.nodeWatchers.publish(snapshot, for: 0) }
        }

        mutating func publish(_ group: GroupID) {
            let snapshot = groups[group]
            for key in sessions.keys { sessions[key]?.groupWatchers.publish(snapshot, for: group) }
        }
    }

    private let state = Mutex(State())
    let limits: Limits

    /// Creates an empty store; `limits` bounds memberships and watchers as in production.
    public init(limits: Limits = .standard) {
        self.limits = limits
    }

    func openSession() -> UInt64 {
        state.withLock { state in
            state.nextSession += 1
            state.sessions[state.nextSession] = Session()
            return state.nextSession
        }
    }

    func isOpen(_ session: UInt64) -> Bool {
        state.withLock { $0.sessions[session] != nil }
    }

    /// Ends a session: its registrations vanish (like ephemeral znodes) and its streams finish.
    func closeSession(_ session: UInt64) {
        let continuations: (nodes: [AsyncStream<NodesSnapshot>.Continuation],
                            groups: [AsyncStream<VersionedMembership?>.Continuation]) =
            state.withLock { state in
                guard var closing = state.sessions.removeValue(forKey: session) else { return ([], []) }
                let owned = state.nodes.filter { $0.value.owner == session }.keys
                for node in owned { state.nodes[node] = nil }
                if !owned.isEmpty { state.publishNodes() }
                return (closing.nodeWatchers.removeAll(), closing.groupWatchers.removeAll())
            }
        continuations.nodes.forEach { $0.finish() }
        continuations.groups.forEach { $0.finish() }
    }

    func register(_ node: NodeID, at registration: NodeRegistration, session: UInt64) throws(CoordinationError) {
        try CoordinationCodec.validate(registration)
        try state.withLock { state throws(CoordinationError) in
            guard state.sessions[session] != nil else { throw .closed }
            // A coordinator registers one node, once; repeating the identical call is a no-op.
            if let own = state.nodes.first(where: { $0.value.owner == session }) {
                guard own.key == node, own.value.registration == registration else {
                    throw .invalidArgument(reason: "this coordinator already registered node \(own.key.rawValue)")
                }
                return
            }
            if state.nodes[node] != nil { throw .alreadyExists(.node(node)) }
            state.nodes[node] = Registration(registration: registration, owner: session)
            state.publishNodes()
        }
    }

    func deregister(session: UInt64) throws(CoordinationError) {
        try state.withLock { state throws(CoordinationError) in
            guard state.sessions[session] != nil else { throw .closed }
            let owned = state.nodes.filter { $0.value.owner == session }.keys
            guard !owned.isEmpty else { return }
            for node in owned { state.nodes[node] = nil }
            state.publishNodes()
        }
    }

    func liveNodes(session: UInt64) throws(CoordinationError) -> NodesSnapshot {
        try state.withLock { state throws(CoordinationError) in
            guard state.sessions[session] != nil else { throw .closed }
            return state.nodesSnapshot
        }
    }

    func groups(session: UInt64) throws(CoordinationError) -> [GroupID] {
        try state.withLock { state throws(CoordinationError) in
            guard state.sessions[session] != nil else { throw .closed }
            return state.groups.keys.sorted()
        }
    }

    func membership(of group: GroupID, session: UInt64) throws(CoordinationError) -> VersionedMembership {
        try state.withLock { state throws(CoordinationError) in
            guard state.sessions[session] != nil else { throw .closed }
            guard let stored = state.groups[group] else { throw .notFound(.group(group)) }
            return stored
        }
    }

    func createMembership(_ membership: GroupMembership, for group: GroupID, session: UInt64)
        throws(CoordinationError) -> VersionedMembership
    {
        try membership.validate(limits: limits)
        return try state.withLock { state throws(CoordinationError) in
            guard state.sessions[session] != nil else { throw .closed }
            guard state.groups[group] == nil else { throw .alreadyExists(.group(group)) }
            let stored = VersionedMembership(membership: membership, version: .initial)
            state.groups[group] = stored
            state.publish(group)
            return stored
        }
    }

    func compareAndSetMembership(
        _ membership: GroupMembership, for group: GroupID, expectedVersion: MembershipVersion, session: UInt64
    ) throws(CoordinationError) -> VersionedMembership {
        try membership.validate(limits: limits)
        return try state.withLock { state throws(CoordinationError) in
            guard state.sessions[session] != nil else { throw .closed }
            guard let current = state.groups[group] else { throw .notFound(.group(group)) }
            guard current.version == expectedVersion else {
                throw .conflict(group: group, expectedVersion: expectedVersion)
            }
            let stored = VersionedMembership(
                membership: membership, version: MembershipVersion(current.version.rawValue &+ 1))
            state.groups[group] = stored
            state.publish(group)
            return stored
        }
    }

    func watchLiveNodes(session: UInt64) -> AsyncStream<NodesSnapshot> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: NodesSnapshot.self, bufferingPolicy: .bufferingNewest(1))
        let identifier: UInt64? = state.withLock { state in
            guard state.sessions[session] != nil else { return nil }
            precondition(state.sessions[session]!.watcherCount < limits.coordinationWatchersMax,
                         "more than coordinationWatchersMax watches: streams are being leaked")
            let identifier = state.sessions[session]!.nodeWatchers.add(continuation, for: 0)
            state.sessions[session]!.nodeWatchers.publish(state.nodesSnapshot, for: 0)
            return identifier
        }
        guard let identifier else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.sessions[session]?.nodeWatchers.remove(identifier, for: 0) }
        }
        return stream
    }

    func watchMembership(of group: GroupID, session: UInt64) -> AsyncStream<VersionedMembership?> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: VersionedMembership?.self, bufferingPolicy: .bufferingNewest(1))
        let identifier: UInt64? = state.withLock { state in
            guard state.sessions[session] != nil else { return nil }
            precondition(state.sessions[session]!.watcherCount < limits.coordinationWatchersMax,
                         "more than coordinationWatchersMax watches: streams are being leaked")
            let identifier = state.sessions[session]!.groupWatchers.add(continuation, for: group)
            state.sessions[session]!.groupWatchers.publish(state.groups[group], for: group)
            return identifier
        }
        guard let identifier else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.sessions[session]?.groupWatchers.remove(identifier, for: group) }
        }
        return stream
    }
}
