import Coordination
import MOMCore
import Raft
import Replication

/// Runs every 2 s on the `__meta` leader. It creates ZooKeeper's `groups/<id>` record of every
/// group the catalog knows (and `__meta`), with the voters the group was created with; from then
/// on each group's leader keeps the record equal to its Raft configuration
/// (`GroupMembershipDriver`). It also makes every live node outside `--meta-replicas` a
/// `__meta` learner, so a node added to a running cluster learns the catalog (KRaft's brokers
/// follow the metadata log the same way, without voting), and removes a learner whose node has
/// been gone from the live set for 30 s (`LearnerExpiry`). Writes are create-only, so two
/// leaders of different terms can never overwrite each other blindly, and whoever leads
/// `__meta` next repeats what a crash interrupted.
///
/// ZooKeeper stores only this membership and the node registry; leaders come from Raft.
final class MembershipReconciler: @unchecked Sendable {
    private let node: BrokerNode
    private var task: Task<Void, Never>?
    let intervalMilliseconds: UInt64
    /// Touched by the reconciler task only.
    private var expiry: LearnerExpiry
    /// Groups whose record this leader has seen or made: records are never removed, so they
    /// are not read again on every pass (1,000 groups made 500 ZooKeeper reads a second).
    /// Forgotten when this node stops leading `__meta`. Touched by the reconciler task only.
    private var recorded: Set<GroupID> = []
    private let clock = ContinuousClock()
    private let started: ContinuousClock.Instant

    init(node: BrokerNode, intervalMilliseconds: UInt64 = 2_000, learnerGraceMilliseconds: UInt64 = LearnerExpiry.defaultGraceMilliseconds) {
        self.node = node
        self.intervalMilliseconds = intervalMilliseconds
        self.expiry = LearnerExpiry(graceMilliseconds: learnerGraceMilliseconds)
        self.started = clock.now
    }

    func start() {
        task = Task { [self] in
            while !Task.isCancelled {
                if node.host.status(of: MetaStateMachine.group)?.role == .leader {
                    await Self.reconcile(node, recorded: &recorded)
                    await expireLearner()
                } else {
                    expiry.reset()
                    recorded = []
                }
                try? await Task.sleep(nanoseconds: intervalMilliseconds * 1_000_000)
            }
        }
    }

    /// Removes one `__meta` learner whose node has been gone for the grace period. The live
    /// set is only trusted while the ZooKeeper session is fresh: a partitioned leader must not
    /// take everyone for gone.
    private func expireLearner() async {
        guard !node.coordinator.isStale, let status = node.host.status(of: MetaStateMachine.group), status.role == .leader else {
            expiry.reset()
            return
        }
        let elapsed = started.duration(to: clock.now).components
        let now = UInt64(elapsed.seconds) * 1_000 + UInt64(elapsed.attoseconds / 1_000_000_000_000_000)
        guard let gone = expiry.observe(
            learners: Set(status.learners), live: Set(node.peers.live.keys),
            targetVoters: Set(node.meta.current.metaVoters ?? []), nowMilliseconds: now)
        else { return }
        let result = await GroupMembershipDriver.apply(.removeNode(gone), to: MetaStateMachine.group, on: node.host)
        Log.info("a node gone from the live set leaves __meta", [("node", "\(gone.rawValue)"), ("outcome", "\(result)")])
    }

    func stop() { task?.cancel() }

    /// One pass: every missing record is created, then one live non-member joins `__meta`.
    static func reconcile(_ node: BrokerNode, recorded: inout Set<GroupID>) async {
        var wanted: [(GroupID, [NodeID])] = [(MetaStateMachine.group, node.config.metaReplicas)]
        for assignment in node.meta.current.groups { wanted.append((assignment.group, assignment.initialReplicas)) }
        for (group, replicas) in wanted where !recorded.contains(group) {
            do {
                try await ensure(group, replicas: replicas, coordinator: node.coordinator)
                recorded.insert(group)
            } catch {
                // Unavailable: the next pass retries.
                return
            }
        }
        await addMetaLearner(node)
    }

    /// One pass without memory of earlier ones (tests).
    static func reconcile(_ node: BrokerNode) async {
        var recorded: Set<GroupID> = []
        await reconcile(node, recorded: &recorded)
    }

    static func ensure(_ group: GroupID, replicas: [NodeID], coordinator: any Coordinator) async throws(CoordinationError) {
        do {
            _ = try await coordinator.membership(of: group)
        } catch .notFound {
            do {
                _ = try await coordinator.createMembership(GroupMembership(replicas: replicas, learners: [], epoch: 1), for: group)
            } catch .alreadyExists {
                return
            }
        }
    }

    /// Adds one registered node that is not yet a `__meta` member as a learner (one change at
    /// a time is all Raft allows; the next pass adds the next).
    static func addMetaLearner(_ node: BrokerNode) async {
        guard let status = node.host.status(of: MetaStateMachine.group), status.role == .leader else { return }
        let members = Set(status.voters + status.learners)
        guard let newcomer = node.peers.live.keys.sorted().first(where: { !members.contains($0) }) else { return }
        let result = await GroupMembershipDriver.apply(.addLearner(newcomer), to: MetaStateMachine.group, on: node.host)
        Log.info("node joins __meta as a learner", [("node", "\(newcomer.rawValue)"), ("outcome", "\(result)")])
    }
}
