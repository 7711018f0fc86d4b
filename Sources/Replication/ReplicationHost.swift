import MOMCore
import Raft
import SystemIO

/// Hosts every Raft group of this node on one loop thread: ticks, steps incoming messages, and
/// runs each Ready through persist → send appends → sync (every dirty group together: group
/// commit, `SyncPool`; or, with asynchronous storage writes, on `BackgroundSync`'s thread while
/// the loop goes on) → send responses → apply. Other threads talk to it only through its
/// bounded inbox and its published statuses.
public final class ReplicationHost: @unchecked Sendable {
    /// Settings for the loop; defaults give ~1 s election timeouts at a 100 ms tick.
    public struct Settings: Sendable {
        public var tickMilliseconds: UInt64 = 100
        public var electionTicks: Int = 10
        public var heartbeatTicks: Int = 1
        public var inboxCapacity: Int = 65_536
        public var proposalTimeoutMilliseconds: UInt64 = 10_000
        public var commitWaitersMax: Int = 16_384
        public var limits: Limits = .standard
        /// Threads that fdatasync the logs of one loop pass side by side (group commit across
        /// groups). 0 syncs them one by one on the loop thread: required when the logs share a
        /// single-threaded file system such as `SimulatedFileSystem`.
        public var syncWorkers: Int = 3
        /// When set, a loop pass with two or more dirty logs makes them all durable with this
        /// one whole-file-system sync (syncfs) instead of one fdatasync per log. Every log of
        /// the host must live on that file system. A pass with one dirty log still fdatasyncs
        /// just that log, which is cheaper.
        public var fileSystemSync: (any FileSystemSync)?
        /// Asynchronous storage writes (ReplicationHost+AsyncWrites): the loop writes a pass's
        /// entries and goes on while a background thread syncs them with `fileSystemSync`
        /// (required); acks, a leader's own vote toward commit, and responses that vouch for
        /// durability still wait for that sync. Off: each pass syncs before it goes on.
        public var asyncStorageWrites = false
        /// With asynchronous storage writes: a pass that finds no sync in flight and wrote one
        /// log, at most this many entries, syncs it on the loop thread instead (0: never). At
        /// low load that saves the two hand-offs to the sync thread and back, each a wake-up of
        /// a sleeping thread (docs/performance.md §24); under load syncs are in flight and the
        /// passes go on handing them off.
        public var inlineSyncEntriesMax = 0
        /// Tests and simulation: with asynchronous storage writes, run the syncs on the loop
        /// thread, finishing pending ones at random passes from this seed (`SteppedSync`), as a
        /// single-threaded `SimulatedFileSystem` needs.
        public var steppedSyncSeed: UInt64?
        /// Idle groups stop heartbeating (RaftCore+Quiescence) and the host runs node-level
        /// liveness instead (PeerLiveness): a keep-alive to every peer node each heartbeat
        /// interval, and quiesced groups woken when a peer node falls silent.
        public var quiesce = false
        public init() {}
    }

    enum Command {
        case message(from: NodeID, group: GroupID, Message)
        case propose(GroupID, [[UInt8]], deadline: UInt64, @Sendable (Result<ClosedRange<LogIndex>, ReplicationError>) -> Void)
        case waitForCommit(GroupID, after: LogIndex, deadline: UInt64, @Sendable (Result<LogIndex, ReplicationError>) -> Void)
        case addGroup(GroupID, any GroupLog, any GroupStateMachine, bootstrap: Configuration?, campaign: Bool, @Sendable (Result<Void, Error>) -> Void)
        case removeGroup(GroupID)
        case transferLeadership(GroupID, to: NodeID)
        case campaign(GroupID)
        case waitForLeader(GroupID, deadline: UInt64, @Sendable (NodeID?) -> Void)
        case run(@Sendable (ReplicationHost) -> Void)
        /// A peer node's keep-alive arrived (PeerLiveness).
        case heard(NodeID)
    }

    public let nodeID: NodeID
    let settings: Settings
    let clock: any Clock
    let link: any PeerLink
    let inbox: Inbox<Command>
    let syncPool: SyncPool
    /// The background sync of asynchronous storage writes, when on.
    let background: (any SyncEngine)?
    /// Loop thread: passes whose background sync has not finished, in ticket order.
    var syncsInFlight: [PendingSync] = []
    private let statusLock = ConditionMutex()
    private var publishedStatuses: [GroupID: GroupStatus] = [:]
    private var thread: OSThread?
    /// Loop-thread state.
    var groups: [GroupID: GroupReplica] = [:]
    /// The same groups in id order (ReplicationHost+Registry).
    var orderedGroups: [GroupReplica] = []
    /// Groups something happened to since the last pass, and whether a tick touched them all.
    var touchedGroups: [GroupReplica] = []
    var everyGroupTouched = false
    /// Ticks since start, and messages that arrived before their group was added here.
    var tickCount: UInt64 = 0
    lazy var earlyMessages = EarlyMessages(maxAgeTicks: UInt64(settings.electionTicks))
    /// Groups whose writes wait for the pass's batched sync (DeferredDurability).
    var deferredDurability = DeferredDurability()
    var random: SeededRandom
    var stopping = false
    var stopped = false
    /// Where the loop waits when it shares its thread (`share(loopWith:)`); set before start.
    var waiter: (any LoopWaiter)?
    /// Node-level liveness of the peer nodes, for quiesced groups (ReplicationHost+Quiescence).
    lazy var liveness = PeerLiveness(silentTicksMax: UInt64(settings.electionTicks))
    /// How many hosted groups were quiesced at the last tick, for metrics.
    private var quiescedGroupsAtLastTick = 0
    /// Passes whose log writes were synced on the loop thread (`inlineSyncEntriesMax`) and
    /// syncs handed to the sync thread, with asynchronous storage writes; for metrics and tests.
    private var syncsInlineTotal: UInt64 = 0
    private var syncsHandedOffTotal: UInt64 = 0
    /// Callers waiting for a group to have a leader (a new partition, a failover), bounded.
    var leaderWaiters: [(group: GroupID, deadline: UInt64, wake: @Sendable (NodeID?) -> Void)] = []

    public init(nodeID: NodeID, link: any PeerLink, clock: any Clock, randomSeed: UInt64, settings: Settings = Settings()) {
        self.nodeID = nodeID
        self.link = link
        self.clock = clock
        self.settings = settings
        self.inbox = Inbox(capacity: settings.inboxCapacity)
        self.syncPool = SyncPool(workerCount: settings.syncWorkers, fileSystemSync: settings.fileSystemSync)
        if settings.asyncStorageWrites {
            guard let fileSystemSync = settings.fileSystemSync else {
                preconditionFailure("asynchronous storage writes need a whole-file-system sync")
            }
            let inbox = self.inbox
            if let seed = settings.steppedSyncSeed {
                self.background = SteppedSync(fileSystemSync: fileSystemSync, seed: seed)
            } else {
                self.background = BackgroundSync(fileSystemSync: fileSystemSync) { inbox.wake() }
            }
        } else {
            self.background = nil
        }
        self.random = SeededRandom(seed: randomSeed)
    }

    /// Makes the loop wait in `waiter` (which then runs on the loop thread) instead of on its
    /// inbox alone. Call before `start`.
    public func share(loopWith waiter: any LoopWaiter) {
        precondition(thread == nil, "share the loop before it starts")
        self.waiter = waiter
        inbox.wakeHook = { waiter.wake() }
    }

    /// The waiter `share(loopWith:)` installed, if any.
    public var loopWaiter: (any LoopWaiter)? { waiter }

    /// Starts the loop thread.
    public func start() {
        precondition(thread == nil, "ReplicationHost started twice")
        thread = OSThread.start(name: "mom-raft") { [self] in runLoop() }
    }

    /// Stops the loop; pending proposals fail with `.stopped`. Call `transferLeadership` first
    /// for a graceful hand-over.
    public func stop() {
        inbox.post(.run { host in host.stopping = true })
        inbox.wake()
        thread?.join()
        thread = nil
        syncPool.stop()
        background?.stop()
    }

    // MARK: - Thread-safe API

    /// Hosts a group. `bootstrap` gives the initial voters of a brand-new group (ignored when the
    /// log already holds state); with `campaign`, this node (the preferred leader) starts an
    /// election at once when the group is brand new.
    public func addGroup(
        _ group: GroupID, log: any GroupLog, stateMachine: any GroupStateMachine,
        bootstrap: Configuration?, campaign: Bool = false, completion: @escaping @Sendable (Result<Void, Error>) -> Void
    ) {
        if !inbox.post(.addGroup(group, log, stateMachine, bootstrap: bootstrap, campaign: campaign, completion)) {
            completion(.failure(ReplicationError.overloaded))
        }
    }

    public func removeGroup(_ group: GroupID) { inbox.post(.removeGroup(group)) }

    /// Proposes entries to a group this node leads. The completion runs on the loop thread once
    /// they are committed (a majority has them on disk) and applied here, with their indices.
    public func propose(
        _ group: GroupID, entries: [[UInt8]],
        completion: @escaping @Sendable (Result<ClosedRange<LogIndex>, ReplicationError>) -> Void
    ) {
        precondition(!entries.isEmpty, "empty proposal")
        let deadline = clock.monotonicNanoseconds() + settings.proposalTimeoutMilliseconds * 1_000_000
        if !inbox.post(.propose(group, entries, deadline: deadline, completion)) {
            completion(.failure(.overloaded))
        }
    }

    /// Calls `wake` once the group's commit index exceeds `index`, or at the deadline.
    public func waitForCommit(
        _ group: GroupID, after index: LogIndex, timeoutMilliseconds: UInt64,
        wake: @escaping @Sendable (Result<LogIndex, ReplicationError>) -> Void
    ) {
        let deadline = clock.monotonicNanoseconds() + timeoutMilliseconds * 1_000_000
        if !inbox.post(.waitForCommit(group, after: index, deadline: deadline, wake)) {
            wake(.failure(.overloaded))
        }
    }

    public func transferLeadership(_ group: GroupID, to peer: NodeID) {
        inbox.post(.transferLeadership(group, to: peer))
    }

    public func campaign(_ group: GroupID) { inbox.post(.campaign(group)) }

    /// Calls `wake` with the group's leader as soon as one is known here (at once if it already
    /// is), or with nil after `timeoutMilliseconds`. A group that is not hosted yet is waited for
    /// too: it may be about to start. `wake` runs on the loop thread and must not block.
    public func waitForLeader(_ group: GroupID, timeoutMilliseconds: UInt64, wake: @escaping @Sendable (NodeID?) -> Void) {
        let deadline = clock.monotonicNanoseconds() + timeoutMilliseconds * 1_000_000
        if !inbox.post(.waitForLeader(group, deadline: deadline, wake)) { wake(nil) }
    }

    /// Runs `body` on the loop thread (for state-machine queries that must see applied state).
    public func onLoop(_ body: @escaping @Sendable (ReplicationHost) -> Void) -> Bool {
        inbox.post(.run(body))
    }

    /// Delivers a payload the transport received (any thread). Malformed payloads are dropped.
    public func receive(from peer: NodeID, group: GroupID, payload: [UInt8]) {
        do {
            if group == HeartbeatBatch.channel {
                let items = try HeartbeatBatch.decode(payload, limits: settings.limits)
                // An empty batch is a keep-alive; any message counts as one too (`handle`).
                if items.isEmpty { inbox.post(.heard(peer)) }
                for (target, message) in items {
                    inbox.post(.message(from: peer, group: target, message))
                }
            } else {
                inbox.post(.message(from: peer, group: group, try Message.decode(payload, limits: settings.limits)))
            }
        } catch {
            // A corrupt payload from a peer is its problem; Raft recovers through retries.
        }
    }

    /// The last published status of a group, if hosted here.
    public func status(of group: GroupID) -> GroupStatus? {
        statusLock.withLock { publishedStatuses[group] }
    }

    /// Every hosted group's last published status.
    public func statuses() -> [GroupStatus] {
        statusLock.withLock { publishedStatuses.values.sorted { $0.group < $1.group } }
    }

    /// How many of this node's groups were quiesced at the last tick (0 with quiescence off).
    public var quiescedGroupCount: Int { statusLock.withLock { quiescedGroupsAtLastTick } }

    func publishQuiescedGroupCount(_ count: Int) { statusLock.withLock { quiescedGroupsAtLastTick = count } }

    /// With asynchronous storage writes: syncs run on the loop thread and syncs handed to the
    /// sync thread since start.
    public var storageSyncCounts: (inline: UInt64, handedOff: UInt64) {
        statusLock.withLock { (syncsInlineTotal, syncsHandedOffTotal) }
    }

    func countSync(inline: Bool) {
        statusLock.withLock { if inline { syncsInlineTotal += 1 } else { syncsHandedOffTotal += 1 } }
    }

    func publish(_ status: GroupStatus) { statusLock.withLock { publishedStatuses[status.group] = status } }
    func unpublish(_ group: GroupID) { statusLock.withLock { publishedStatuses[group] = nil } }
}
