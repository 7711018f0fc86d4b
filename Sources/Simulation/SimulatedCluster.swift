import MOMCore
import Raft

/// Where a node may crash while it handles a Ready (the host's persist-then-send pipeline).
public enum CrashPoint: CaseIterable, Sendable {
    /// Entries and hard state written, not synced: they are lost.
    case afterWrite
    /// Synced, messages not sent.
    case afterSync
    /// Messages sent, committed entries not applied.
    case afterSend
    /// Applied, `advance` not called.
    case afterApply
}

/// A cluster of Raft RawNodes hosted the way a real server hosts them (persist, sync when
/// `mustSync`, only then send; apply; advance), over `SimulatedNetwork` and `SimulatedStorage`,
/// with every report fed to a `SafetyChecker`. No wall clock, no unseeded randomness, nodes
/// always visited in id order: a run is a pure function of its seed and inputs.
public final class SimulatedCluster {
    /// Node ids, ascending.
    public let ids: [NodeID]
    let nodes: [SimulatedNode]
    var network: SimulatedNetwork
    /// The simulation's one source of randomness.
    var random: SeededRandom
    /// The history checker; read its `violations`.
    public internal(set) var checker: SafetyChecker
    /// Simulated time.
    public private(set) var now: UInt64 = 0
    /// Crashes so far.
    public internal(set) var crashes = 0
    /// Leader elections observed.
    public private(set) var leadersElected = 0
    /// Snapshots followers installed from a leader.
    public internal(set) var snapshotsInstalled = 0
    /// Membership changes applied (counted on every node that applies one).
    public internal(set) var configChangesApplied = 0
    /// Inputs a node refused (messages from removed peers, malformed duplicates...).
    public private(set) var refusedMessages = 0
    /// Chance (percent) that a leader crashes right after persisting, before sending, a Ready
    /// that advanced its commit index; set by fault schedules, zero after healing.
    public var leaderCommitCrashPercent: UInt64 = 0
    /// How many Ready rounds one `settle()` may run: a bound on every delivery loop.
    static let settleRoundsMax = 10_000
    /// Hosts run asynchronous storage writes (ReplicationHost+AsyncWrites): entries are synced
    /// after the Ready is advanced, at a random later tick; append and vote responses wait.
    public let asyncStorageWrites: Bool
    /// Quiescence (RaftConfig.quiesce) with momd's node-level liveness (PeerLiveness): a node
    /// reports a peer down once it has been unable to hear from it (crashed, or across a
    /// partition) for this many ticks. Nil: quiescence off. Keep-alives are modelled as immune to
    /// random drops: a lost one would only wake groups early, which drops already exercise.
    public let peerSilentTicksMax: UInt64?
    /// [listener][speaker]: the tick `listener` last could hear from `speaker`.
    var lastHeard: [[UInt64]]
    /// Node-ticks spent quiesced (a quiesced node's tick does nothing): shows a quiescence run
    /// exercised it.
    public private(set) var quiescedNodeTicks: UInt64 = 0

    /// `nodeCount` voters bootstrapped from a snapshot at index 1, term 1; `configure` adjusts
    /// each node's RaftConfig (planted bugs, limits).
    public init(
        nodeCount: Int, seed: UInt64, network faults: NetworkFaults, messagesInFlightMax: Int = 10_000,
        asyncStorageWrites: Bool = false, peerSilentTicksMax: UInt64? = nil, configure: (inout RaftConfig) -> Void = { _ in }
    ) throws {
        precondition(nodeCount >= 1 && nodeCount <= 9, "1 to 9 nodes")
        self.asyncStorageWrites = asyncStorageWrites
        self.peerSilentTicksMax = peerSilentTicksMax
        lastHeard = Array(repeating: Array(repeating: 0, count: nodeCount), count: nodeCount)
        random = SeededRandom(seed: seed)
        ids = (1...UInt64(nodeCount)).map(NodeID.init)
        let bootstrap = Snapshot(metadata: SnapshotMetadata(index: LogIndex(1), term: Term(1), configuration: Configuration(voters: Set(ids))))
        var nodes: [SimulatedNode] = []
        for (position, id) in ids.enumerated() {
            var config = RaftConfig(id: id)
            config.applied = bootstrap.metadata.index
            configure(&config)
            nodes.append(SimulatedNode(id: id, position: position, image: DiskImage(snapshot: bootstrap), config: config))
        }
        self.nodes = nodes
        network = SimulatedNetwork(nodeCount: nodeCount, faults: faults, messagesInFlightMax: messagesInFlightMax)
        checker = SafetyChecker(bootstrapIndex: bootstrap.metadata.index)
        for node in nodes { try start(node) }
    }

    /// Message counters.
    public var networkStatistics: NetworkStatistics { network.statistics }

    /// The first violation found, if any.
    public var firstViolation: SafetyViolation? { checker.violations.first }

    func position(of id: NodeID) -> Int? {
        let position = Int(id.rawValue) - 1
        return position >= 0 && position < nodes.count ? position : nil
    }

    // MARK: Time and delivery

    /// One tick: every live node ticks, due messages are delivered, every node handles its Ready.
    /// `crashPerMil` is the chance that handling a Ready crashes its node at a random step.
    public func tick(crashPerMil: UInt64 = 0, downTicksMax: UInt64 = 1) throws {
        checker.now = now
        try restartDueNodes()
        reportSilentPeers()
        for node in nodes {
            guard let raw = node.raw else { continue }
            if raw.isQuiesced { quiescedNodeTicks += 1 }
            raw.tick()
            try observeRole(node)
        }
        try deliverDue()
        try handleReadies(crashPerMil: crashPerMil, downTicksMax: downTicksMax)
        // A background sync finishes at a random tick after it was asked for.
        for node in nodes where node.pendingSync != nil && random.chance(1, in: 2) { try finishSync(node) }
        now += 1
    }

    /// The host's node-level liveness: every live node hears from every live peer it can talk
    /// to, and reports one it could not hear from for `peerSilentTicksMax` (each tick, as the
    /// host does while the peer stays silent).
    func reportSilentPeers() {
        guard let silentMax = peerSilentTicksMax else { return }
        for listener in nodes {
            guard let raw = listener.raw else { continue }
            for speaker in nodes where speaker.position != listener.position {
                if speaker.isUp && network.canTalk(listener.position, speaker.position) {
                    lastHeard[listener.position][speaker.position] = now
                } else if now - lastHeard[listener.position][speaker.position] >= silentMax {
                    raw.reportPeerDown(speaker.id)
                }
            }
        }
    }

    /// With zero-delay networks: deliver and handle Readies until nothing moves (bounded).
    public func settle() throws {
        checker.now = now
        for _ in 0..<SimulatedCluster.settleRoundsMax {
            let hadReady = nodes.contains { $0.raw?.hasReady() ?? false }
            try handleReadies(crashPerMil: 0, downTicksMax: 1)
            let delivered = try deliverDue()
            let syncing = nodes.filter { $0.pendingSync != nil }
            for node in syncing { try finishSync(node) }
            if !hadReady && delivered == 0 && syncing.isEmpty { return }
        }
    }

    @discardableResult
    func deliverDue() throws -> Int {
        let messages = network.takeDue(now: now) { self.position(of: $0) }
        for message in messages {
            guard let position = position(of: message.to), let raw = nodes[position].raw else { continue }
            do {
                try raw.step(message)
            } catch is RaftError {
                refusedMessages += 1
            }
            try observeRole(nodes[position])
        }
        return messages.count
    }

    func handleReadies(crashPerMil: UInt64, downTicksMax: UInt64) throws {
        for node in nodes {
            guard let raw = node.raw, raw.hasReady() else { continue }
            var crashPoint: CrashPoint?
            if crashPerMil > 0 && random.chance(crashPerMil, in: 1000) {
                crashPoint = CrashPoint.allCases[Int(random.uniform(below: UInt64(CrashPoint.allCases.count)))]
            }
            try handleReady(node, raw: raw, crashAt: crashPoint, downTicksMax: downTicksMax)
        }
    }

    // MARK: Roles

    /// Election safety is checked after every input: a node that became leader and stepped down
    /// before its next Ready is still seen.
    func observeRole(_ node: SimulatedNode) throws {
        guard let raw = node.raw else { return }
        guard raw.basicStatus.role == .leader else {
            node.leaderTerm = nil
            return
        }
        if node.leaderTerm == nil {
            let term = raw.status.hardState.term
            node.leaderTerm = term
            leadersElected += 1
            checker.observeLeader(node.id, term: term)
        }
    }

    /// A live node that leads, preferring the one with the highest term (a stale leader may not
    /// have noticed it was deposed).
    public var leader: NodeID? {
        var best: SimulatedNode?
        for node in nodes where node.leaderTerm != nil {
            if best == nil || node.leaderTerm! > best!.leaderTerm! { best = node }
        }
        return best?.id
    }

    /// The leader and its term (see `leader`).
    public var leaderAndTerm: (leader: NodeID, term: Term)? {
        guard let leader else { return nil }
        return (leader, nodes[position(of: leader)!].leaderTerm!)
    }

    /// The highest last index of any node's written log.
    public var highestLastIndex: LogIndex { nodes.map { $0.storage.written.lastIndex }.max()! }

    /// The lowest index any node's state machine has applied.
    public var lowestAppliedIndex: LogIndex { nodes.map { $0.stateMachine.appliedIndex }.min()! }

    /// Whether `id` is running.
    public func isUp(_ id: NodeID) -> Bool { position(of: id).map { nodes[$0].isUp } ?? false }

    /// Whether `id` is running and quiesced.
    public func isQuiesced(_ id: NodeID) -> Bool { position(of: id).flatMap { nodes[$0].raw?.isQuiesced } ?? false }

    /// The configuration `id` runs with, while it is up.
    public func configuration(of id: NodeID) -> Configuration? { position(of: id).flatMap { nodes[$0].raw?.status.configuration } }

    /// The index `id`'s state machine has applied.
    public func appliedIndex(of id: NodeID) -> LogIndex { nodes[position(of: id)!].stateMachine.appliedIndex }

    /// `id`'s written (page-cache) and durable disk images.
    public func diskImages(of id: NodeID) -> (written: DiskImage, durable: DiskImage) {
        let storage = nodes[position(of: id)!].storage
        return (storage.written, storage.durable)
    }
}
