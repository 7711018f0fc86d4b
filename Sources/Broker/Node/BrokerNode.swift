import Coordination
import HTTPServer
import MOMCore
import Raft
import Replication
import SystemIO

/// One MOM node: the replication host with its `__meta` and partition groups, the catalog, the
/// coordinator registration, and the REST handlers. The executable wires it to sockets.
public final class BrokerNode: @unchecked Sendable {
    let config: NodeConfig
    let limits: Limits
    let clock: any Clock
    let coordinator: any Coordinator
    let host: ReplicationHost
    let meta: MetaStateMachine
    let groups: NodeGroups
    let peers = PeerDirectory()
    let metrics: NodeMetrics
    private var watchTask: Task<Void, Never>?
    private var reconciler: MembershipReconciler?
    private var membershipDriver: GroupMembershipDriver?
    /// Idempotent requests being written (loop thread only): a concurrent identical retry waits.
    var inflightProducers: Set<ProducerKey> = []
    /// Called when the live-node set changes, to re-dial peers.
    var onPeersChanged: (@Sendable ([NodeID: SocketAddress]) -> Void)?

    init(
        config: NodeConfig, coordinator: any Coordinator, link: any PeerLink, logFactory: any GroupLogFactory,
        clock: any Clock, limits: Limits, randomSeed: UInt64, metrics: NodeMetrics? = nil,
        fileSystemSync: (any FileSystemSync)? = nil
    ) {
        self.metrics = metrics ?? NodeMetrics(clock: clock)
        self.config = config
        self.limits = limits
        self.clock = clock
        self.coordinator = coordinator
        var settings = ReplicationHost.Settings()
        settings.tickMilliseconds = config.tickMilliseconds
        settings.heartbeatTicks = config.heartbeatTicks
        settings.quiesce = config.quiesce == .on
        settings.limits = limits
        settings.fileSystemSync = fileSystemSync
        settings.asyncStorageWrites = fileSystemSync != nil && config.storageWrites != .sync
        // One-at-a-time producers write one entry a pass; a few more still means a light load.
        if config.storageWrites == .adaptive { settings.inlineSyncEntriesMax = 4 }
        self.host = ReplicationHost(nodeID: config.nodeID, link: link, clock: clock, randomSeed: randomSeed, settings: settings)
        let groups = NodeGroups(nodeID: config.nodeID, limits: limits, factory: logFactory)
        self.groups = groups
        self.meta = MetaStateMachine(limits: limits) { outcome, catalog in
            groups.catalogChanged(outcome) { catalog }
        }
        groups.host = host
    }

    /// Starts the loop, hosts `__meta`, registers with the coordinator, and follows the live
    /// node set.
    func start() async throws {
        host.start()
        let metaLog = try groups.factory.openLog(for: MetaStateMachine.group, owner: nil)
        let voters = Set(config.metaReplicas)
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            host.addGroup(MetaStateMachine.group, log: metaLog, stateMachine: meta,
                          bootstrap: Configuration(voters: voters),
                          campaign: config.metaReplicas.first == config.nodeID) { continuation.resume(with: $0) }
        }
        let registration = NodeRegistration(http: config.httpListen.description, raft: (config.raftAdvertise ?? config.raftListen).description)
        try await registerRetrying(registration)
        peers.update(try await coordinator.liveNodes())
        onPeersChanged?(peers.raftAddresses())
        let reconciler = MembershipReconciler(node: self)
        reconciler.start()
        self.reconciler = reconciler
        let membershipDriver = GroupMembershipDriver(node: self)
        membershipDriver.start()
        self.membershipDriver = membershipDriver
        let stream = coordinator.watchLiveNodes()
        watchTask = Task { [peers, weak self] in
            for await live in stream {
                peers.update(live)
                self?.onPeersChanged?(peers.raftAddresses())
            }
        }
    }

    /// Registers, waiting out a previous run's session: after a crash, ZooKeeper keeps the old
    /// ephemeral registration until that session times out (bounded by `registerWaitSeconds`).
    private func registerRetrying(_ registration: NodeRegistration, registerWaitSeconds: Int = 60) async throws {
        var attempt = 0
        while true {
            do {
                try await coordinator.register(config.nodeID, at: registration)
                return
            } catch {
                let retryable: Bool
                switch error {
                case .alreadyExists, .unavailable: retryable = true
                default: retryable = false
                }
                guard retryable, attempt < registerWaitSeconds * 2 else { throw error }
                if attempt == 0 {
                    Log.warn("registration refused for now; retrying", [("node", "\(config.nodeID.rawValue)"), ("reason", "\(error)")])
                }
            }
            attempt += 1
            try await Task.sleep(nanoseconds: 500_000_000)
        }
    }

    /// Graceful stop: hand leadership over (bounded), leave the coordinator, stop the loop.
    func stop() async {
        _ = host.handOverLeadership(timeoutMilliseconds: 5_000)
        try? await coordinator.deregister()
        watchTask?.cancel()
        reconciler?.stop()
        membershipDriver?.stop()
        host.stop()
    }
}
