import MOMCore

/// The whole catalog as bytes, for `__meta` Raft snapshots (log compaction) and for nodes that
/// join late. Layout: `version u8 (=3) | next group | next binding | next subscription |
/// topics | queues | exchanges | bindings | subscriptions | meta voters`, each list count-prefixed and sorted,
/// so equal catalogs encode to equal bytes. The group index is rebuilt, not stored.
/// Version 2 added each placement's initial replicas; 3 the `__meta` target voters (a byte 0/1,
/// then the list). A version 2 snapshot still decodes, with no target.
enum CatalogSnapshot {
    static let formatVersion: UInt8 = 3

    static func encode(_ catalog: Catalog) -> [UInt8] {
        var writer = BinaryWriter(capacity: 4096)
        writer.write(formatVersion)
        writer.write(varint: catalog.nextGroupID.rawValue)
        writer.write(varint: catalog.nextBindingID.rawValue)
        writer.write(varint: catalog.nextSubscriptionID)
        let topics = catalog.topics
        writer.write(count: topics.count)
        for topic in topics {
            writer.write(string: topic.name)
            writer.write(count: topic.replicationFactor)
            writer.write(optional: topic.retentionMilliseconds)
            writer.write(optional: topic.retentionBytes)
            writer.write(placements: topic.partitions)
        }
        let queues = catalog.queues
        writer.write(count: queues.count)
        for queue in queues {
            writer.write(string: queue.name)
            writer.write(count: queue.replicationFactor)
            writer.write(varint: queue.ackTimeoutMilliseconds)
            writer.write(optional: queue.maxDeliveries.map { UInt64($0) })
            writer.write(placements: queue.partitions)
            writer.write(optionalString: queue.deadLetterQueue)
            writer.write(optionalString: queue.deadLetterSource)
        }
        encodeRouting(catalog, into: &writer)
        if let voters = catalog.metaVoters {
            writer.write(UInt8(1))
            writer.write(nodes: voters)
        } else {
            writer.write(UInt8(0))
        }
        return writer.bytes
    }

    private static func encodeRouting(_ catalog: Catalog, into writer: inout BinaryWriter) {
        let exchanges = catalog.exchanges
        writer.write(count: exchanges.count)
        for exchange in exchanges {
            writer.write(string: exchange.name)
            writer.write(exchange.type.rawValue)
        }
        let bindings = exchanges.flatMap { catalog.bindings(exchange: $0.name) ?? [] }
        writer.write(count: bindings.count)
        for binding in bindings {
            writer.write(varint: binding.id.rawValue)
            writer.write(string: binding.exchange)
            writer.write(string: binding.destination)
            writer.write(binding.destinationType.rawValue)
            writer.write(string: binding.bindingKey)
        }
        let subscriptions = catalog.topics.flatMap { catalog.subscriptions(topic: $0.name) ?? [] }
        writer.write(count: subscriptions.count)
        for subscription in subscriptions {
            writer.write(string: subscription.topic)
            writer.write(string: subscription.name)
            writer.write(varint: subscription.id)
            writer.write(subscription.start.rawValue)
            writer.write(count: subscription.startOffsets.count)
            for offset in subscription.startOffsets { writer.write(varint: offset.rawValue) }
        }
    }

    /// Decodes a snapshot. Throws `DecodeError` on malformed bytes or on a snapshot whose parts
    /// contradict each other (duplicate names or groups, bindings of unknown exchanges).
    static func decode(_ bytes: [UInt8], limits: Limits = .standard) throws -> Catalog {
        try bytes.withUnsafeBytes { raw in
            var reader = BinaryReader(raw)
            let version = try reader.readByte()
            guard version == formatVersion || version == 2 else { throw DecodeError.invalid("catalog snapshot version \(version)") }
            let nextGroupID = GroupID(try reader.readVarint())
            let nextBindingID = BindingID(try reader.readVarint())
            let nextSubscriptionID = try reader.readVarint()
            let topics = try decodeTopics(from: &reader, limits: limits)
            let queues = try decodeQueues(from: &reader, limits: limits)
            let exchanges = try decodeExchanges(from: &reader, limits: limits)
            let bindings = try decodeBindings(from: &reader, limits: limits)
            let subscriptions = try decodeSubscriptions(from: &reader, limits: limits)
            let metaVoters = version == 2 ? nil : try decodeMetaVoters(from: &reader, limits: limits)
            guard reader.isAtEnd else { throw DecodeError.invalid("\(reader.remaining) trailing bytes after snapshot") }
            try checkConsistency(
                topics: topics, queues: queues, exchanges: exchanges, bindings: bindings, subscriptions: subscriptions,
                nextGroupID: nextGroupID, nextBindingID: nextBindingID, nextSubscriptionID: nextSubscriptionID)
            return Catalog(
                limits: limits, topics: topics, queues: queues, exchanges: exchanges, bindings: bindings,
                subscriptions: subscriptions, nextGroupID: nextGroupID, nextBindingID: nextBindingID,
                nextSubscriptionID: nextSubscriptionID, metaVoters: metaVoters)
        }
    }

    private static func decodeMetaVoters(from reader: inout BinaryReader, limits: Limits) throws -> [NodeID]? {
        switch try reader.readByte() {
        case 0: return nil
        case 1: return try reader.readNodes(limit: limits.groupMembersMax)
        case let flag: throw DecodeError.invalid("meta voters flag \(flag)")
        }
    }

    private static func decodeTopics(from reader: inout BinaryReader, limits: Limits) throws -> [TopicConfig] {
        let count = try reader.readCount(limit: limits.catalogResourcesMax)
        var topics: [TopicConfig] = []
        for _ in 0..<count {
            topics.append(TopicConfig(
                name: try reader.readUTF8(limit: limits.resourceNameBytesMax),
                replicationFactor: try reader.readCount(limit: limits.replicationFactorMax),
                retentionMilliseconds: try reader.readOptionalVarint(),
                retentionBytes: try reader.readOptionalVarint(),
                partitions: try reader.readPlacements(limits: limits)))
        }
        return topics
    }

    private static func decodeQueues(from reader: inout BinaryReader, limits: Limits) throws -> [QueueConfig] {
        let count = try reader.readCount(limit: limits.catalogResourcesMax)
        var queues: [QueueConfig] = []
        for _ in 0..<count {
            queues.append(QueueConfig(
                name: try reader.readUTF8(limit: limits.resourceNameBytesMax),
                replicationFactor: try reader.readCount(limit: limits.replicationFactorMax),
                ackTimeoutMilliseconds: try reader.readVarint(),
                maxDeliveries: try reader.readOptionalVarint().map { Int(clamping: $0) },
                partitions: try reader.readPlacements(limits: limits),
                deadLetterQueue: try reader.readOptionalString(limit: limits.resourceNameBytesMax),
                deadLetterSource: try reader.readOptionalString(limit: limits.resourceNameBytesMax)))
        }
        return queues
    }

    private static func decodeExchanges(from reader: inout BinaryReader, limits: Limits) throws -> [ExchangeConfig] {
        let count = try reader.readCount(limit: limits.exchangesMax)
        var exchanges: [ExchangeConfig] = []
        for _ in 0..<count {
            let name = try reader.readUTF8(limit: limits.resourceNameBytesMax)
            exchanges.append(ExchangeConfig(name: name, type: try reader.readEnum(ExchangeType.self)))
        }
        return exchanges
    }

    private static func decodeBindings(from reader: inout BinaryReader, limits: Limits) throws -> [Binding] {
        let count = try reader.readCount(limit: limits.catalogBindingsMax)
        var bindings: [Binding] = []
        for _ in 0..<count {
            bindings.append(Binding(
                id: BindingID(try reader.readVarint()),
                exchange: try reader.readUTF8(limit: limits.resourceNameBytesMax),
                destination: try reader.readUTF8(limit: limits.resourceNameBytesMax),
                destinationType: try reader.readEnum(DestinationType.self),
                bindingKey: try reader.readUTF8(limit: limits.bindingKeyBytesMax)))
        }
        return bindings
    }

    private static func decodeSubscriptions(from reader: inout BinaryReader, limits: Limits) throws -> [SubscriptionConfig] {
        let count = try reader.readCount(limit: limits.catalogResourcesMax * limits.subscriptionsPerTopicMax)
        var subscriptions: [SubscriptionConfig] = []
        for _ in 0..<count {
            let topic = try reader.readUTF8(limit: limits.resourceNameBytesMax)
            let name = try reader.readUTF8(limit: limits.resourceNameBytesMax)
            let id = try reader.readVarint()
            let start = try reader.readEnum(SubscriptionStart.self)
            let offsetCount = try reader.readCount(limit: limits.partitionsPerResourceMax)
            var offsets: [Offset] = []
            for _ in 0..<offsetCount { offsets.append(Offset(try reader.readVarint())) }
            subscriptions.append(SubscriptionConfig(topic: topic, name: name, id: id, start: start, startOffsets: offsets))
        }
        return subscriptions
    }
}
