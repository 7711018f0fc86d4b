import MOMCore

/// Validation of `reassignPartition` and the value rewrites it needs. Whether the nodes are
/// live is the handler's check: `apply` may not depend on a node's view of liveness.
extension Catalog {
    func validateReassignPartition(_ reassign: ReassignPartition) throws(ModelError) {
        let what = "\(reassign.destinationType.name) '\(ResourceName.printable(reassign.name))'"
        let partitions: [PartitionPlacement]
        let replicationFactor: Int
        switch reassign.destinationType {
        case .topic:
            let topic = try existingTopic(reassign.name)
            (partitions, replicationFactor) = (topic.partitions, topic.replicationFactor)
        case .queue:
            let queue = try existingQueue(reassign.name)
            (partitions, replicationFactor) = (queue.partitions, queue.replicationFactor)
        }
        guard Int(reassign.partition.rawValue) < partitions.count else {
            throw .notFound("\(what) has no partition \(reassign.partition.rawValue); it has \(partitions.count) (0-\(partitions.count - 1))")
        }
        try Self.validateReplicaSet(reassign.replicas, replicationFactor: replicationFactor, of: what)
    }

    /// `__meta`'s voters: 1 to `groupMembersMax` distinct, non-zero node IDs. An even count is
    /// allowed (it tolerates no more failures than one node fewer, so the docs recommend odd).
    func validateMetaVoters(_ voters: [NodeID]) throws(ModelError) {
        guard (1...limits.groupMembersMax).contains(voters.count) else {
            throw .badRequest("__meta needs 1 to \(limits.groupMembersMax) voters, not \(voters.count)")
        }
        try Self.validateReplicaSet(voters, replicationFactor: voters.count, of: "__meta")
    }

    /// A replica set: exactly `replicationFactor` distinct, non-zero node IDs.
    static func validateReplicaSet(_ replicas: [NodeID], replicationFactor: Int, of what: String) throws(ModelError) {
        guard replicas.count == replicationFactor else {
            throw .badRequest("\(what) has replication factor \(replicationFactor): give exactly \(replicationFactor) replicas, not \(replicas.count)")
        }
        guard Set(replicas).count == replicas.count else {
            throw .badRequest("\(what): replicas \(replicas.map(\.rawValue)) name a node twice; give distinct nodes")
        }
        guard !replicas.contains(NodeID(0)) else {
            throw .badRequest("\(what): node 0 does not exist (node IDs start at 1)")
        }
    }
}

extension PartitionPlacement {
    func moved(to replicas: [NodeID]) -> PartitionPlacement {
        PartitionPlacement(partition: partition, group: group, replicas: replicas, initialReplicas: initialReplicas)
    }
}

extension TopicConfig {
    /// The same topic with one partition's placement replaced; every other field is kept.
    func replacing(_ placement: PartitionPlacement) -> TopicConfig {
        var copy = self
        copy.partitions[Int(placement.partition.rawValue)] = placement
        return copy
    }
}

extension QueueConfig {
    /// The same queue with one partition's placement replaced; every other field is kept.
    func replacing(_ placement: PartitionPlacement) -> QueueConfig {
        var copy = self
        copy.partitions[Int(placement.partition.rawValue)] = placement
        return copy
    }
}
