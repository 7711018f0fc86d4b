import Coordination
import MOMCore
import Raft
import Replication

/// Runs on every node, every second. For each group this node leads it (1) takes the next step
/// of a partition reassignment (`ReassignmentPlan`) toward the catalog's target (for `__meta`,
/// the catalog's `metaVoters` once an operator set them), and (2) records
/// the configuration in force in ZooKeeper's `groups/<id>`. For each replica this node hosts
/// but the catalog moved elsewhere, it stops the replica once ZooKeeper shows the leader removed
/// it. The catalog holds the target, Raft the truth: a leader that crashes midway is replaced by
/// one that re-plans from the configuration in force, so a move always resumes.
final class GroupMembershipDriver: @unchecked Sendable {
    private let node: BrokerNode
    private var task: Task<Void, Never>?
    let intervalMilliseconds: UInt64
    /// What this node last wrote (or found) in ZooKeeper per group, to skip unchanged ones.
    /// Touched by the driver task only.
    private var reported: [GroupID: GroupMembership] = [:]

    init(node: BrokerNode, intervalMilliseconds: UInt64 = 1_000) {
        self.node = node
        self.intervalMilliseconds = intervalMilliseconds
    }

    func start() {
        task = Task { [self] in
            while !Task.isCancelled {
                await pass()
                try? await Task.sleep(nanoseconds: intervalMilliseconds * 1_000_000)
            }
        }
    }

    func stop() { task?.cancel() }

    /// One pass over every group hosted here.
    func pass() async {
        let catalog = node.meta.current
        let statuses = node.host.statuses()
        // Forget what was reported for groups led elsewhere now: if this node leads one again,
        // it reads the record afresh instead of trusting a value another leader may have changed.
        let led = Set(statuses.filter { $0.role == .leader }.map(\.group))
        reported = reported.filter { led.contains($0.key) }
        for status in statuses {
            if status.role == .leader {
                if status.group == MetaStateMachine.group {
                    if let voters = catalog.metaVoters { await step(status, toward: voters, keepingOtherLearners: true) }
                } else if let assignment = catalog.group(status.group) {
                    await step(status, toward: assignment.replicas)
                }
                await report(status, preferredOrder: catalog.group(status.group)?.replicas ?? catalog.metaVoters ?? node.config.metaReplicas)
            } else if let assignment = catalog.group(status.group), !assignment.replicas.contains(node.config.nodeID) {
                await stopIfRemoved(status.group)
            }
        }
    }

    private func step(_ status: GroupStatus, toward target: [NodeID], keepingOtherLearners: Bool = false) async {
        guard let next = ReassignmentPlan.nextStep(
            leader: node.config.nodeID, voters: Set(status.voters), learners: Set(status.learners),
            lag: status.followerLag, target: target, keepingOtherLearners: keepingOtherLearners)
        else { return }
        let change: ConfigChange
        switch next {
        case .addLearner(let id): change = .addLearner(id)
        case .promote(let id): change = .addVoter(id)
        case .remove(let id): change = .removeNode(id)
        case .handOver(let successor):
            node.host.transferLeadership(status.group, to: successor)
            return
        case .waitForCatchUp: return
        }
        let result = await Self.apply(change, to: status.group, on: node.host)
        let outcome: String
        switch result {
        case .success: outcome = "applied"
        case .failure(let error): outcome = "not applied (\(error)); retrying next pass"
        }
        Log.info("reassignment step", [("group", "\(status.group.rawValue)"), ("change", "\(change)"), ("outcome", outcome)])
    }

    static func apply(_ change: ConfigChange, to group: GroupID, on host: ReplicationHost) async -> Result<Configuration, MembershipChangeError> {
        await withCheckedContinuation { continuation in
            host.changeMembership(group, change, timeoutMilliseconds: 10_000) { continuation.resume(returning: $0) }
        }
    }

    /// Writes the leader's configuration to `groups/<id>` when the record says otherwise. The
    /// epoch grows past the configuration's index, so a deposed leader holding an older
    /// configuration cannot overwrite a newer record.
    func report(_ status: GroupStatus, preferredOrder: [NodeID]) async {
        let voters = preferredOrder.filter { status.voters.contains($0) } + status.voters.filter { !preferredOrder.contains($0) }
        if let last = reported[status.group], last.replicas == voters, last.learners == status.learners { return }
        let configurationEpoch = status.configurationIndex.rawValue + 1
        do {
            let current = try await node.coordinator.membership(of: status.group)
            let record = current.membership
            if record.replicas == voters && record.learners == status.learners {
                reported[status.group] = record
                return
            }
            guard configurationEpoch >= record.epoch else { return }
            let next = GroupMembership(replicas: voters, learners: status.learners, epoch: max(record.epoch + 1, configurationEpoch))
            _ = try await node.coordinator.compareAndSetMembership(next, for: status.group, expectedVersion: current.version)
            reported[status.group] = next
        } catch {
            // Not created yet (the `__meta` leader creates records), unavailable, or a racing
            // writer: the next pass retries.
        }
    }

    /// A replica the catalog moved away stops only once its removal is recorded by a leader
    /// (epoch above the creation epoch 1) in a fresh read: stopping earlier could take a voter
    /// away from a group that still counts it.
    private func stopIfRemoved(_ group: GroupID) async {
        guard !node.coordinator.isStale,
              let record = try? await node.coordinator.membership(of: group).membership,
              record.epoch > 1, !record.replicas.contains(node.config.nodeID), !record.learners.contains(node.config.nodeID)
        else { return }
        let (groups, meta, me) = (node.groups, node.meta, node.config.nodeID)
        _ = node.host.onLoop { _ in
            // Catalog changes apply on this loop: if a later reassignment brought this node
            // back meanwhile, it keeps the replica (it would not be started again).
            guard meta.current.group(group).map({ !$0.replicas.contains(me) }) ?? false else { return }
            groups.stop(group)
            Log.info("replica removed from this node", [("group", "\(group.rawValue)")])
        }
    }
}
