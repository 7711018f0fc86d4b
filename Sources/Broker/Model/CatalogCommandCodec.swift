import MOMCore

/// Layout: `version u8 (=1) | kind u8 | fields`, strings length-prefixed UTF-8, counts and
/// integers as varints, optionals behind a presence byte. Decoding is total and bounded by
/// `Limits`; validation of the values themselves is `Catalog.apply`'s job, so that a
/// well-formed but wrong command gets a proper 4xx outcome on every replica alike.
extension CatalogCommand {
    static let formatVersion: UInt8 = 1

    private enum Kind: UInt8 {
        case createTopic = 1, deleteTopic, createQueue, deleteQueue, createExchange, deleteExchange
        case addBinding, removeBinding, createSubscription, deleteSubscription, reassignPartition, reassignMeta
    }

    /// The `__meta` entry bytes for this command.
    func encoded() -> [UInt8] {
        var writer = BinaryWriter(capacity: 64)
        writer.write(Self.formatVersion)
        switch self {
        case .createTopic(let command):
            writer.write(Kind.createTopic.rawValue)
            writer.write(string: command.name)
            writer.write(count: command.partitions)
            writer.write(count: command.replicationFactor)
            writer.write(optional: command.retentionMilliseconds)
            writer.write(optional: command.retentionBytes)
            writer.write(replicaLists: command.replicas)
        case .deleteTopic(let name):
            writer.write(Kind.deleteTopic.rawValue)
            writer.write(string: name)
        case .createQueue(let command):
            writer.write(Kind.createQueue.rawValue)
            writer.write(string: command.name)
            writer.write(count: command.partitions)
            writer.write(count: command.replicationFactor)
            writer.write(varint: command.ackTimeoutMilliseconds)
            writer.write(optional: command.maxDeliveries.map { UInt64($0) })
            writer.write(replicaLists: command.replicas)
            writer.write(replicaLists: command.deadLetterReplicas)
        case .deleteQueue(let name):
            writer.write(Kind.deleteQueue.rawValue)
            writer.write(string: name)
        case .createExchange(let name, let type):
            writer.write(Kind.createExchange.rawValue)
            writer.write(string: name)
            writer.write(type.rawValue)
        case .deleteExchange(let name):
            writer.write(Kind.deleteExchange.rawValue)
            writer.write(string: name)
        case .addBinding(let command):
            writer.write(Kind.addBinding.rawValue)
            writer.write(string: command.exchange)
            writer.write(string: command.destination)
            writer.write(command.destinationType.rawValue)
            writer.write(string: command.bindingKey)
        case .removeBinding(let exchange, let id):
            writer.write(Kind.removeBinding.rawValue)
            writer.write(string: exchange)
            writer.write(varint: id.rawValue)
        case .createSubscription(let command):
            writer.write(Kind.createSubscription.rawValue)
            writer.write(string: command.topic)
            writer.write(string: command.name)
            writer.write(command.start.rawValue)
            writer.write(count: command.startOffsets.count)
            for offset in command.startOffsets { writer.write(varint: offset.rawValue) }
        case .deleteSubscription(let topic, let name):
            writer.write(Kind.deleteSubscription.rawValue)
            writer.write(string: topic)
            writer.write(string: name)
        case .reassignPartition(let command):
            writer.write(Kind.reassignPartition.rawValue)
            writer.write(command.destinationType.rawValue)
            writer.write(string: command.name)
            writer.write(varint: UInt64(command.partition.rawValue))
            writer.write(replicaLists: [command.replicas])
        case .reassignMeta(let voters):
            writer.write(Kind.reassignMeta.rawValue)
            writer.write(nodes: voters)
        }
        return writer.bytes
    }

    /// Decodes a `__meta` entry. Throws `DecodeError` on anything malformed.
    static func decode(_ bytes: [UInt8], limits: Limits = .standard) throws -> CatalogCommand {
        try bytes.withUnsafeBytes { raw in
            var reader = BinaryReader(raw)
            let version = try reader.readByte()
            guard version == formatVersion else { throw DecodeError.invalid("catalog command version \(version)") }
            let kindByte = try reader.readByte()
            guard let kind = Kind(rawValue: kindByte) else { throw DecodeError.invalid("catalog command kind \(kindByte)") }
            let command = try decodeBody(kind, from: &reader, limits: limits)
            guard reader.isAtEnd else { throw DecodeError.invalid("\(reader.remaining) trailing bytes after command") }
            return command
        }
    }

    private static func decodeBody(_ kind: Kind, from reader: inout BinaryReader, limits: Limits) throws -> CatalogCommand {
        let nameLimit = limits.resourceNameBytesMax
        switch kind {
        case .createTopic:
            return .createTopic(CreateTopic(
                name: try reader.readUTF8(limit: nameLimit),
                partitions: try reader.readCount(limit: limits.partitionsPerResourceMax),
                replicationFactor: try reader.readCount(limit: limits.replicationFactorMax),
                retentionMilliseconds: try reader.readOptionalVarint(),
                retentionBytes: try reader.readOptionalVarint(),
                replicas: try reader.readReplicaLists(limits: limits)))
        case .deleteTopic:
            return .deleteTopic(name: try reader.readUTF8(limit: nameLimit))
        case .createQueue:
            let name = try reader.readUTF8(limit: nameLimit)
            let partitions = try reader.readCount(limit: limits.partitionsPerResourceMax)
            let replicationFactor = try reader.readCount(limit: limits.replicationFactorMax)
            let ackTimeout = try reader.readVarint()
            let maxDeliveries = try reader.readOptionalVarint().map { Int(clamping: $0) }
            return .createQueue(CreateQueue(
                name: name, partitions: partitions, replicationFactor: replicationFactor,
                ackTimeoutMilliseconds: ackTimeout, maxDeliveries: maxDeliveries,
                replicas: try reader.readReplicaLists(limits: limits),
                deadLetterReplicas: try reader.readReplicaLists(limits: limits)))
        case .deleteQueue:
            return .deleteQueue(name: try reader.readUTF8(limit: nameLimit))
        case .createExchange:
            let name = try reader.readUTF8(limit: nameLimit)
            return .createExchange(name: name, type: try reader.readEnum(ExchangeType.self))
        case .deleteExchange:
            return .deleteExchange(name: try reader.readUTF8(limit: nameLimit))
        case .addBinding:
            return .addBinding(AddBinding(
                exchange: try reader.readUTF8(limit: nameLimit),
                destination: try reader.readUTF8(limit: nameLimit),
                destinationType: try reader.readEnum(DestinationType.self),
                bindingKey: try reader.readUTF8(limit: limits.bindingKeyBytesMax)))
        case .removeBinding:
            let exchange = try reader.readUTF8(limit: nameLimit)
            return .removeBinding(exchange: exchange, id: BindingID(try reader.readVarint()))
        case .createSubscription:
            let topic = try reader.readUTF8(limit: nameLimit)
            let name = try reader.readUTF8(limit: nameLimit)
            let start = try reader.readEnum(SubscriptionStart.self)
            let count = try reader.readCount(limit: limits.partitionsPerResourceMax)
            var offsets: [Offset] = []
            for _ in 0..<count { offsets.append(Offset(try reader.readVarint())) }
            return .createSubscription(CreateSubscription(topic: topic, name: name, start: start, startOffsets: offsets))
        case .deleteSubscription:
            let topic = try reader.readUTF8(limit: nameLimit)
            return .deleteSubscription(topic: topic, name: try reader.readUTF8(limit: nameLimit))
        case .reassignPartition:
            let type = try reader.readEnum(DestinationType.self)
            let name = try reader.readUTF8(limit: nameLimit)
            let partition = try reader.readVarint()
            guard partition <= UInt64(UInt32.max) else { throw DecodeError.invalid("partition \(partition)") }
            let lists = try reader.readReplicaLists(limits: limits)
            guard lists.count == 1 else { throw DecodeError.invalid("reassignment with \(lists.count) replica lists") }
            return .reassignPartition(ReassignPartition(
                destinationType: type, name: name, partition: PartitionID(UInt32(partition)), replicas: lists[0]))
        case .reassignMeta:
            return .reassignMeta(voters: try reader.readNodes(limit: limits.groupMembersMax))
        }
    }
}

extension BinaryWriter {
    mutating func write(count: Int) {
        precondition(count >= 0, "negative count")
        write(varint: UInt64(count))
    }

    mutating func write(optional value: UInt64?) {
        if let value {
            write(UInt8(1))
            write(varint: value)
        } else {
            write(UInt8(0))
        }
    }

    /// A count-prefixed node list (`__meta`'s voters, which may outnumber a replication factor).
    mutating func write(nodes: [NodeID]) {
        write(count: nodes.count)
        for node in nodes { write(varint: node.rawValue) }
    }

    mutating func write(replicaLists: [[NodeID]]) {
        write(count: replicaLists.count)
        for replicas in replicaLists {
            write(count: replicas.count)
            for node in replicas { write(varint: node.rawValue) }
        }
    }
}

extension BinaryReader {
    mutating func readOptionalVarint() throws -> UInt64? {
        switch try readByte() {
        case 0: return nil
        case 1: return try readVarint()
        case let other: throw DecodeError.invalid("presence byte \(other)")
        }
    }

    mutating func readEnum<E: RawRepresentable>(_ type: E.Type) throws -> E where E.RawValue == UInt8 {
        let raw = try readByte()
        guard let value = E(rawValue: raw) else { throw DecodeError.invalid("\(E.self) \(raw)") }
        return value
    }

    mutating func readNodes(limit: Int) throws -> [NodeID] {
        let count = try readCount(limit: limit)
        var nodes: [NodeID] = []
        for _ in 0..<count { nodes.append(NodeID(try readVarint())) }
        return nodes
    }

    mutating func readReplicaLists(limits: Limits) throws -> [[NodeID]] {
        let count = try readCount(limit: limits.partitionsPerResourceMax)
        var lists: [[NodeID]] = []
        lists.reserveCapacity(count)
        for _ in 0..<count {
            let replicaCount = try readCount(limit: limits.replicationFactorMax)
            var replicas: [NodeID] = []
            for _ in 0..<replicaCount { replicas.append(NodeID(try readVarint())) }
            lists.append(replicas)
        }
        return lists
    }
}
