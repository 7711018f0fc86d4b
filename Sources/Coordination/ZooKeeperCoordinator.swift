import CZooKeeper
import Dispatch
import MOMCore
import Synchronization

/// The cluster `Coordinator`: MOM's registry and group memberships in ZooKeeper, under
/// `configuration.root` (layout in docs/zookeeper.md).
///
/// - Every call uses libzookeeper's asynchronous API and suspends; no thread waits on ZooKeeper.
/// - When the session expires, a new one is made, this node's registration is re-created and
///   every watch is re-armed, with no action from the caller.
/// - While ZooKeeper is unreachable, reads return the last known state and `isStale` is true;
///   writes throw `unavailable`. A write that throws `unavailable` may or may not have happened.
/// - Watches are level-triggered snapshots (see `Coordinator`), refreshed by one maintenance task
///   that coalesces events, so a burst of changes costs one re-read. The task runs on its own
///   serial queue (`MaintenanceExecutor`), never waiting for a busy cooperative pool.
public final class ZooKeeperCoordinator: Coordinator {
    /// The configuration this coordinator was made with.
    public let configuration: ZooKeeperConfiguration
    let layout: CoordinationLayout
    let session: ZooKeeperSession
    let state = Mutex(ZooKeeperCoordinatorState())
    let wakeups: AsyncStream<Void>.Continuation

    /// Starts connecting in the background and returns at once; calls made before the session is
    /// up wait for it (or fail with `unavailable` if the connection attempt fails).
    public init(configuration: ZooKeeperConfiguration) throws(CoordinationError) {
        guard configuration.sessionTimeoutMilliseconds > 0 else {
            throw .invalidArgument(reason: "sessionTimeoutMilliseconds must be positive")
        }
        self.configuration = configuration
        self.layout = try CoordinationLayout(root: configuration.root)
        configuration.logLevel.apply()
        self.session = ZooKeeperSession(
            connectString: configuration.connectString,
            sessionTimeoutMilliseconds: configuration.sessionTimeoutMilliseconds,
            retryDelayMilliseconds: configuration.retryDelayMilliseconds)
        let (wakeupStream, wakeups) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.wakeups = wakeups
        Task(executorPreference: MaintenanceExecutor(label: "mom.zookeeper.maintenance")) { [weak self] in
            for await _ in wakeupStream {
                guard let self else { return }
                await self.performPendingWork()
            }
        }
        do throws(CoordinationError) {
            try session.start { [weak self] event in self?.handle(event) }
        } catch {
            wakeups.finish()
            throw error
        }
    }

    deinit {
        wakeups.finish()
    }

    public var sessionState: CoordinatorSessionState {
        state.withLock { $0.closed } ? .closed : session.connection
    }

    public var isStale: Bool { sessionState != .connected }

    // MARK: Registration

    public func register(_ node: NodeID, at registration: NodeRegistration) async throws(CoordinationError) {
        try CoordinationCodec.validate(registration)
        let wasRegistered = try state.withLock { state throws(CoordinationError) -> Bool in
            guard !state.closed else { throw .closed }
            if let existing = state.registration {
                guard existing.node == node, existing.registration == registration else {
                    throw .invalidArgument(reason: "this coordinator already registered node \(existing.node.rawValue)")
                }
                return true
            }
            state.registration = (node, registration)
            return false
        }
        if let error = await createRegistration(node, registration) {
            if !wasRegistered {
                state.withLock { state in if state.registration?.node == node { state.registration = nil } }
            }
            throw error
        }
    }

    public func deregister() async throws(CoordinationError) {
        let current = try state.withLock { state throws(CoordinationError) in
            guard !state.closed else { throw .closed }
            defer { state.registration = nil }
            return state.registration
        }
        guard let current else { return }
        let path = layout.path(of: current.node)
        // Delete only our own ephemeral: another session may hold this node ID by now.
        let existing = await session.exists(path, watch: false)
        if existing.status == .noNode { return }
        guard existing.status.isOK, let stat = existing.stat else { throw failure(existing.status, path: path) }
        guard stat.ephemeralOwner == session.sessionID else { return }
        let reply = await session.delete(path, version: stat.version)
        guard reply.status.isOK || reply.status == .noNode else { throw failure(reply.status, path: path) }
    }

    /// Creates this node's ephemeral znode, or accepts it if this session already owns it.
    /// Returns nil on success.
    func createRegistration(_ node: NodeID, _ registration: NodeRegistration) async -> CoordinationError? {
        let path = layout.path(of: node)
        let data = CoordinationCodec.encode(registration)
        // Bounded: one retry after creating missing parents, one after a racing delete.
        for _ in 0..<3 {
            let reply = await session.create(path, data: data, ephemeral: true)
            if reply.status.isOK { return nil }
            if reply.status == .noNode {
                if let error = await ensureParents() { return error }
                continue
            }
            guard reply.status == .nodeExists else { return failure(reply.status, path: path) }
            let existing = await session.exists(path, watch: false)
            if existing.status == .noNode { continue }
            guard existing.status.isOK, let stat = existing.stat else { return failure(existing.status, path: path) }
            return stat.ephemeralOwner == session.sessionID ? nil : .alreadyExists(.node(node))
        }
        return .unavailable(reason: "\(path) kept changing while registering; retry")
    }

    /// Creates the root, its ancestors, `nodes` and `groups` where missing. Returns nil on success.
    func ensureParents() async -> CoordinationError? {
        for path in layout.persistentPaths {
            let reply = await session.create(path, data: nil, ephemeral: false)
            guard reply.status.isOK || reply.status == .nodeExists else { return failure(reply.status, path: path) }
        }
        return nil
    }

    /// Maps a failed call. Closing means closed only if we closed: an expired handle closes too.
    func failure(_ status: ZooKeeperStatus, path: String) -> CoordinationError {
        if status == .closing && state.withLock({ $0.closed }) { return .closed }
        return .unavailable(reason: "\(path): \(status)")
    }

    func checkOpen() throws(CoordinationError) {
        if state.withLock({ $0.closed }) { throw .closed }
    }

    // MARK: Nodes

    public func liveNodes() async throws(CoordinationError) -> [NodeID: NodeRegistration] {
        try checkOpen()
        let cached = state.withLock { $0.nodes }
        if session.connection != .connected, let cached { return cached }
        switch await readNodes(watch: false) {
        case .success(let read):
            state.withLock { $0.remember(nodes: read, fromWatch: false) }
            return read
        case .failure(.unavailable(let reason)):
            if let cached { return cached }
            throw .unavailable(reason: reason)
        case .failure(let error):
            throw error
        }
    }

    /// Lists `nodes/` and reads each registration. Children that are not decimal IDs or whose
    /// record does not decode are skipped: one bad record must not hide the other nodes.
    func readNodes(watch: Bool) async
        -> Result<[NodeID: NodeRegistration], CoordinationError>
    {
        let listing = await session.children(layout.nodesPath, watch: watch)
        if listing.status == .noNode { return .success([:]) }
        guard listing.status.isOK else { return .failure(failure(listing.status, path: layout.nodesPath)) }
        var nodes: [NodeID: NodeRegistration] = [:]
        for name in listing.names.prefix(configuration.limits.coordinationChildrenMax) {
            guard let raw = CoordinationLayout.identifier(fromChild: name) else { continue }
            let path = layout.path(of: NodeID(raw))
            let reply = await session.get(path, watch: false)
            if reply.status == .noNode { continue }
            guard reply.status.isOK else { return .failure(failure(reply.status, path: path)) }
            guard let registration = try? CoordinationCodec.decodeRegistration(reply.data, path: path) else { continue }
            nodes[NodeID(raw)] = registration
        }
        return .success(nodes)
    }

    public func watchLiveNodes() -> AsyncStream<[NodeID: NodeRegistration]> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: [NodeID: NodeRegistration].self, bufferingPolicy: .bufferingNewest(1))
        let connected = session.connection == .connected
        let identifier: UInt64? = state.withLock { state in
            guard !state.closed else { return nil }
            precondition(state.watcherCount < configuration.limits.coordinationWatchersMax,
                         "more than coordinationWatchersMax watches: streams are being leaked")
            // The cache is current only if a watch keeps it so, or the best there is if offline.
            let cacheIsBest = state.nodeWatchers.count > 0 || !connected
            let identifier = state.nodeWatchers.add(continuation, for: 0)
            if cacheIsBest, let known = state.nodes { state.nodeWatchers.publish(known, for: 0) }
            state.pending.nodes = true
            return identifier
        }
        guard let identifier else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.nodeWatchers.remove(identifier, for: 0) }
        }
        wakeups.yield()
        return stream
    }

    // MARK: Close

    public func close() async {
        let continuations = state.withLock { state in
            state.closed = true
            state.pending = .init()
            return (nodes: state.nodeWatchers.removeAll(), groups: state.groupWatchers.removeAll())
        }
        wakeups.finish()
        continuations.nodes.forEach { $0.finish() }
        continuations.groups.forEach { $0.finish() }
        await session.close()
    }
}
