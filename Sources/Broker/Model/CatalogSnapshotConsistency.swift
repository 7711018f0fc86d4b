import MOMCore

extension CatalogSnapshot {
    /// A snapshot is trusted only after its parts agree: a corrupt or hostile snapshot must be
    /// rejected as a `DecodeError` rather than build a catalog that breaks `Catalog`'s invariants.
    static func checkConsistency(
        topics: [TopicConfig], queues: [QueueConfig], exchanges: [ExchangeConfig], bindings: [Binding],
        subscriptions: [SubscriptionConfig], nextGroupID: GroupID, nextBindingID: BindingID, nextSubscriptionID: UInt64
    ) throws {
        var names = Set<String>()
        var groups = Set<GroupID>()
        let placements = topics.map { ($0.name, $0.partitions) } + queues.map { ($0.name, $0.partitions) }
        for (name, partitions) in placements {
            guard names.insert(name).inserted else { throw DecodeError.invalid("snapshot repeats '\(name)'") }
            for (index, placement) in partitions.enumerated() {
                guard placement.partition.rawValue == index, placement.group != metaGroupID,
                      placement.group < nextGroupID, groups.insert(placement.group).inserted
                else { throw DecodeError.invalid("snapshot placement of '\(name)' is inconsistent") }
            }
        }
        let queueNames = Set(queues.map(\.name))
        let exchangeNames = Set(exchanges.map(\.name))
        guard exchangeNames.count == exchanges.count else { throw DecodeError.invalid("snapshot repeats an exchange") }
        var bindingIDs = Set<BindingID>()
        for binding in bindings {
            let destinationExists = binding.destinationType == .queue
                ? queueNames.contains(binding.destination) : topics.contains { $0.name == binding.destination }
            guard exchangeNames.contains(binding.exchange), destinationExists, binding.id < nextBindingID,
                  bindingIDs.insert(binding.id).inserted
            else { throw DecodeError.invalid("snapshot binding \(binding.id) is inconsistent") }
        }
        var subscriptionKeys = Set<String>()
        for subscription in subscriptions {
            guard let topic = topics.first(where: { $0.name == subscription.topic }),
                  topic.partitions.count == subscription.startOffsets.count, subscription.id < nextSubscriptionID,
                  subscriptionKeys.insert(subscription.topic + "/" + subscription.name).inserted
            else { throw DecodeError.invalid("snapshot subscription '\(subscription.name)' is inconsistent") }
        }
    }
}

extension BinaryWriter {
    mutating func write(placements: [PartitionPlacement]) {
        write(count: placements.count)
        for placement in placements {
            write(varint: UInt64(placement.partition.rawValue))
            write(varint: placement.group.rawValue)
            write(count: placement.replicas.count)
            for node in placement.replicas { write(varint: node.rawValue) }
            write(count: placement.initialReplicas.count)
            for node in placement.initialReplicas { write(varint: node.rawValue) }
        }
    }

    mutating func write(optionalString value: String?) {
        if let value {
            write(UInt8(1))
            write(string: value)
        } else {
            write(UInt8(0))
        }
    }
}

extension BinaryReader {
    mutating func readPlacements(limits: Limits) throws -> [PartitionPlacement] {
        let count = try readCount(limit: limits.partitionsPerResourceMax)
        var placements: [PartitionPlacement] = []
        for _ in 0..<count {
            let partition = try readVarint()
            guard partition <= UInt64(UInt32.max) else { throw DecodeError.invalid("partition \(partition)") }
            let group = GroupID(try readVarint())
            let replicaCount = try readCount(limit: limits.replicationFactorMax)
            var replicas: [NodeID] = []
            for _ in 0..<replicaCount { replicas.append(NodeID(try readVarint())) }
            let initialCount = try readCount(limit: limits.replicationFactorMax)
            var initial: [NodeID] = []
            for _ in 0..<initialCount { initial.append(NodeID(try readVarint())) }
            placements.append(PartitionPlacement(
                partition: PartitionID(UInt32(partition)), group: group, replicas: replicas, initialReplicas: initial))
        }
        return placements
    }

    mutating func readOptionalString(limit: Int) throws -> String? {
        switch try readByte() {
        case 0: return nil
        case 1: return try readUTF8(limit: limit)
        case let other: throw DecodeError.invalid("presence byte \(other)")
        }
    }
}
