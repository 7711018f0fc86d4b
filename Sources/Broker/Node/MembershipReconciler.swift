import Coordination
import MOMCore
import Raft
import Replication

/// Keeps ZooKeeper's `groups/<id>` records (replica set + epoch) in step with the catalog. Only
/// the `__meta` leader writes, and only by create or compare-and-set, so two leaders of
/// different terms can never overwrite each other blindly. It runs every 2 s on the `__meta`
/// leader, so a crash between a catalog commit and the ZooKeeper write (or a ZooKeeper outage)
/// is reconciled by whoever leads `__meta` next.
///
/// ZooKeeper stores only this membership and the node registry; leaders come from Raft.
final class MembershipReconciler: @unchecked Sendable {
    private let node: BrokerNode
    private var task: Task<Void, Never>?
    let intervalMilliseconds: UInt64

    init(node: BrokerNode, intervalMilliseconds: UInt64 = 2_000) {
        self.node = node
        self.intervalMilliseconds = intervalMilliseconds
    }

    func start() {
        task = Task { [node, intervalMilliseconds] in
            while !Task.isCancelled {
                if node.host.status(of: MetaStateMachine.group)?.role == .leader {
                    await Self.reconcile(node)
                }
                try? await Task.sleep(nanoseconds: intervalMilliseconds * 1_000_000)
            }
        }
    }

    func stop() { task?.cancel() }

    /// One pass: every group the catalog knows (and `__meta`) gets its record created or fixed.
    static func reconcile(_ node: BrokerNode) async {
        var wanted: [(GroupID, [NodeID])] = [(MetaStateMachine.group, node.config.metaReplicas)]
        for assignment in node.meta.current.groups { wanted.append((assignment.group, assignment.replicas)) }
        for (group, replicas) in wanted {
            do {
                try await ensure(group, replicas: replicas, coordinator: node.coordinator)
            } catch {
                // Unavailable or a racing writer: the next pass retries.
                return
            }
        }
    }

    static func ensure(_ group: GroupID, replicas: [NodeID], coordinator: any Coordinator) async throws(CoordinationError) {
        do {
            let current = try await coordinator.membership(of: group)
            guard current.membership.replicas != replicas else { return }
            let next = GroupMembership(replicas: replicas, learners: [], epoch: current.membership.epoch + 1)
            _ = try await coordinator.compareAndSetMembership(next, for: group, expectedVersion: current.version)
        } catch .notFound {
            do {
                _ = try await coordinator.createMembership(GroupMembership(replicas: replicas, learners: [], epoch: 1), for: group)
            } catch .alreadyExists {
                return
            }
        }
    }
}
