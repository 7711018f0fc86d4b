import MOMCore
import Raft
import Replication
import SystemIO

/// Keeps the groups hosted on this node in step with the catalog: a created topic or queue
/// starts the groups whose replicas include this node; a deleted one stops them. Runs on the
/// replication loop (it is the meta state machine's `onChange`).
final class NodeGroups: @unchecked Sendable {
    let nodeID: NodeID
    let limits: Limits
    let factory: any GroupLogFactory
    weak var host: ReplicationHost?
    private let lock = ConditionMutex()
    /// Partition state machines by group, for handlers (read on the loop thread only).
    private var machines: [GroupID: PartitionGroupMachine] = [:]
    private var owners: [GroupID: GroupOwner] = [:]

    init(nodeID: NodeID, limits: Limits, factory: any GroupLogFactory) {
        self.nodeID = nodeID
        self.limits = limits
        self.factory = factory
    }

    /// Loop thread: the state machine of a hosted partition group.
    func machine(for group: GroupID) -> PartitionGroupMachine? { machines[group] }

    /// Any thread: the owner of a hosted group.
    func owner(of group: GroupID) -> GroupOwner? { lock.withLock { owners[group] } }

    /// Loop thread: reacts to an applied catalog command.
    func catalogChanged(_ outcome: CatalogOutcome, catalog: () -> Catalog) {
        for assignment in outcome.createdGroups where assignment.replicas.contains(nodeID) {
            start(assignment, catalog: catalog())
        }
        // A node added to a partition's replica set starts its replica now, with an empty log;
        // one taken out keeps its replica until the group's leader removed it from the Raft
        // configuration (`GroupMembershipDriver` then calls `stop`).
        for assignment in outcome.reassignedGroups where assignment.replicas.contains(nodeID) {
            start(assignment, catalog: catalog())
        }
        for group in outcome.removedGroups { stop(group) }
    }

    /// Loop thread: stops hosting `group` here and deletes its local log.
    func stop(_ group: GroupID) {
        guard machines[group] != nil else { return }
        host?.removeGroup(group)
        let owner = lock.withLock { owners.removeValue(forKey: group) }
        machines[group] = nil
        try? factory.removeLog(for: group, owner: owner)
    }

    private func start(_ assignment: GroupAssignment, catalog: Catalog) {
        guard machines[assignment.group] == nil, let host else { return }
        let owner = assignment.owner
        var maxDeliveries: Int?
        let isQueue = owner.destinationType == .queue
        if isQueue { maxDeliveries = catalog.queue(owner.name)?.maxDeliveries }
        let machine = PartitionGroupMachine(owner: owner, isQueue: isQueue, maxDeliveries: maxDeliveries, limits: limits)
        do {
            let log = try factory.openLog(for: assignment.group, owner: owner)
            machines[assignment.group] = machine
            lock.withLock { owners[assignment.group] = owner }
            // Every replica, original or added by a reassignment, starts from the group's
            // initial voters: an added one learns the changes since from the leader's log.
            let brandNew = assignment.replicas == assignment.initialReplicas
            host.addGroup(assignment.group, log: log, stateMachine: machine,
                          bootstrap: Configuration(voters: Set(assignment.initialReplicas)),
                          campaign: brandNew && assignment.replicas.first == nodeID) { _ in }
        } catch {
            // The group stays unhosted here; its other replicas keep a majority if they can.
            // Surfaced through /v1/cluster as a missing replica.
        }
    }
}
