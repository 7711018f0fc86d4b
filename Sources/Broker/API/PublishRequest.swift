import HTTPServer
import MOMCore

/// A parsed `POST /v1/exchanges/{x}/publish` body.
struct PublishRequest {
    struct Message {
        let position: Int
        let routingKey: String
        let key: [UInt8]?
        let value: ArraySlice<UInt8>
        let headers: [Header]
    }

    let messages: [Message]
    let producer: (id: UInt64, sequence: UInt64)?

    /// The body through the JSON tree: what the streaming pass leaves, and every error.
    static func parseTree(_ request: HTTPRequest, limits: Limits) throws(HTTPError) -> PublishRequest {
        try parse(RequestJSON.object(request, limits: limits), limits: limits)
    }

    static func parse(_ body: JSONValue, limits: Limits) throws(HTTPError) -> PublishRequest {
        guard let list = body["messages"]?.arrayValue else { throw .badRequest("'messages' must be an array of messages") }
        guard !list.isEmpty else { throw .badRequest("'messages' is empty; send at least one message") }
        guard list.count <= limits.batchRecordsMax else { throw .contentTooLarge("at most \(limits.batchRecordsMax) messages per request") }
        let producerID = try RequestJSON.integer(body, "producer_id", range: 0...Int64.max).map { UInt64($0) }
        let sequence = try RequestJSON.integer(body, "sequence", range: 0...Int64.max).map { UInt64($0) }
        guard (producerID == nil) == (sequence == nil) else {
            throw .badRequest("'producer_id' and 'sequence' go together: send both for an idempotent retry, or neither")
        }
        var messages: [Message] = []
        messages.reserveCapacity(list.count)
        for (position, message) in list.enumerated() {
            guard case .object = message else { throw .badRequest("message \(position) must be an object") }
            guard let routingKey = try RequestJSON.string(message, "routing_key") else { throw .badRequest("message \(position) needs 'routing_key'") }
            guard routingKey.utf8.count <= limits.bindingKeyBytesMax, !routingKey.utf8.contains(0) else {
                throw .badRequest("message \(position): 'routing_key' must be at most \(limits.bindingKeyBytesMax) bytes without NUL")
            }
            let key = try RequestJSON.bytes(message, "key", required: false)
            let value = try RequestJSON.bytes(message, "value", required: true) ?? []
            guard (key?.count ?? 0) <= limits.recordKeyBytesMax else { throw .contentTooLarge("message \(position): key over \(limits.recordKeyBytesMax) bytes") }
            guard value.count <= limits.recordValueBytesMax else { throw .contentTooLarge("message \(position): value over \(limits.recordValueBytesMax) bytes") }
            let headers = try RequestJSON.headers(message, limits: limits)
            messages.append(Message(position: position, routingKey: routingKey, key: key, value: value[...], headers: headers))
        }
        let producer = producerID.map { (id: $0, sequence: sequence!) }
        return PublishRequest(messages: messages, producer: producer)
    }
}

/// Where every copy of a publish goes: the routes per message, and the copies grouped into one
/// share per destination partition (each share is one durable append).
struct PublishPlan {
    /// One copy's destination, in the answer's order for its message.
    struct Route {
        let destination: String
        let destinationType: DestinationType
        let partition: Int
    }

    struct Share {
        let destinationType: DestinationType
        let destination: String
        let placement: PartitionPlacement
        var items: [ProduceRequest.Item] = []
        /// The answer slot of each item, parallel to `items`.
        var slots: [Int] = []
    }

    /// Per message, the first answer slot; message i owns slots `slotStart[i]..<slotStart[i+1]`.
    let slotStart: [Int]
    let routes: [Route]
    let shares: [Share]

    /// Routes each message and picks one partition per destination: hash(key) when keyed, else
    /// the request's sticky partition (`ProduceRequest.stickySeed`: hash(producer, sequence)
    /// for an idempotent producer, so a retry lands on the same partitions and finds its dedup
    /// state; else the rotation `roundRobinStart`).
    /// Refuses (413) a request whose copies exceed `batchRecordsMax` or twice the body limit.
    static func make(
        _ request: PublishRequest, exchange: ExchangeConfig, catalog: Catalog, roundRobinStart: Int, limits: Limits
    ) throws(HTTPError) -> PublishPlan {
        let bindings = catalog.bindings(exchange: exchange.name) ?? []
        var slotStart: [Int] = []
        var routes: [Route] = []
        let stickySeed = ProduceRequest.stickySeed(producer: request.producer, roundRobinStart: roundRobinStart)
        var shareIndex: [GroupID: Int] = [:]
        var shares: [Share] = []
        var copiedBytes = 0
        for message in request.messages {
            slotStart.append(routes.count)
            for destination in ExchangeRouting.route(type: exchange.type, bindings: bindings, routingKey: message.routingKey) {
                let partitions: [PartitionPlacement]
                switch destination.destinationType {
                case .topic: partitions = catalog.topic(destination.destination)?.partitions ?? []
                case .queue: partitions = catalog.queue(destination.destination)?.partitions ?? []
                }
                guard !partitions.isEmpty else { continue }
                let partition = choosePartition(message, stickySeed: stickySeed, count: partitions.count)
                let placement = partitions[partition]
                copiedBytes += message.value.count + (message.key?.count ?? 0)
                guard routes.count < limits.batchRecordsMax, copiedBytes <= 2 * limits.requestBodyBytesMax else {
                    throw .contentTooLarge("the messages route to more than \(limits.batchRecordsMax) copies or \(2 * limits.requestBodyBytesMax) bytes; publish fewer at a time")
                }
                let index = shareIndex[placement.group] ?? {
                    shares.append(Share(destinationType: destination.destinationType, destination: destination.destination, placement: placement))
                    shareIndex[placement.group] = shares.count - 1
                    return shares.count - 1
                }()
                shares[index].items.append(ProduceRequest.Item(
                    position: message.position, partition: partition, key: message.key, value: message.value, headers: message.headers))
                shares[index].slots.append(routes.count)
                routes.append(Route(destination: destination.destination, destinationType: destination.destinationType, partition: partition))
            }
        }
        slotStart.append(routes.count)
        return PublishPlan(slotStart: slotStart, routes: routes, shares: shares)
    }

    /// hash(key) mod partitions, else the request's sticky partition (`ProduceRequest.stickySeed`).
    static func choosePartition(_ message: PublishRequest.Message, stickySeed: UInt64, count: Int) -> Int {
        ProduceRequest.resolvePartition(explicit: nil, key: message.key, stickySeed: stickySeed, partitions: count)
    }
}

extension KeyHash {
    /// A stable hash of a few numbers (FNV-1a over their little-endian bytes).
    static func mix(_ values: UInt64...) -> UInt64 {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * 8)
        for value in values {
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
        }
        return fnv1a(bytes)
    }
}
