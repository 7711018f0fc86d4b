import HTTPServer
import MOMCore

/// A parsed `POST /v1/topics/{t}/records` body: records with their target partition resolved.
struct ProduceRequest {
    struct Item {
        let position: Int
        let partition: Int
        let key: [UInt8]?
        /// Often a slice of the request's body: the JSON reader does not copy plain values.
        let value: ArraySlice<UInt8>
        let headers: [Header]
    }

    let items: [Item]
    let producerID: UInt64?
    let sequence: UInt64?

    /// The idempotent-producer identity, when the request has one.
    var producer: (id: UInt64, sequence: UInt64)? {
        guard let producerID, let sequence else { return nil }
        return (producerID, sequence)
    }

    /// The items grouped by partition, in partition order. A request for one partition (the
    /// common case) is passed on as it is, without building the groups.
    static func byPartition(_ items: [Item]) -> [(partition: Int, items: [Item])] {
        guard let first = items.first?.partition else { return [] }
        if items.allSatisfy({ $0.partition == first }) { return [(first, items)] }
        return Dictionary(grouping: items, by: \.partition).sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// The same request with every record sent to `partition` (the per-partition route).
    func forcing(partition: Int) -> ProduceRequest {
        ProduceRequest(
            items: items.map { Item(position: $0.position, partition: partition, key: $0.key, value: $0.value, headers: $0.headers) },
            producerID: producerID, sequence: sequence)
    }

    /// Parses the body. `partitions` is the topic's partition count; records without a partition
    /// go to hash(key) mod partitions; keyless ones all to the request's sticky partition
    /// (`stickySeed`: hash(producer, sequence) for an idempotent producer, so a retry lands on
    /// the same partition; else `roundRobinStart`, which advances per request).
    static func parse(_ body: JSONValue, partitions: Int, roundRobinStart: Int, limits: Limits) throws(HTTPError) -> ProduceRequest {
        guard let records = body["records"]?.arrayValue else { throw .badRequest("'records' must be an array of records") }
        guard !records.isEmpty else { throw .badRequest("'records' is empty; send at least one record") }
        guard records.count <= limits.batchRecordsMax else {
            throw .contentTooLarge("at most \(limits.batchRecordsMax) records per request")
        }
        let producerID = try RequestJSON.integer(body, "producer_id", range: 0...Int64.max).map { UInt64($0) }
        let sequence = try RequestJSON.integer(body, "sequence", range: 0...Int64.max).map { UInt64($0) }
        guard (producerID == nil) == (sequence == nil) else {
            throw .badRequest("'producer_id' and 'sequence' go together: send both for an idempotent retry, or neither")
        }
        let stickySeed = stickySeed(producer: producerID.flatMap { id in sequence.map { (id, $0) } }, roundRobinStart: roundRobinStart)
        var items: [Item] = []
        items.reserveCapacity(records.count)
        for (position, record) in records.enumerated() {
            guard case .object = record else { throw .badRequest("record \(position) must be an object") }
            let key = try RequestJSON.bytes(record, "key", required: false)
            let value = try RequestJSON.bytes(record, "value", required: true) ?? []
            guard (key?.count ?? 0) <= limits.recordKeyBytesMax else { throw .contentTooLarge("record \(position): key over \(limits.recordKeyBytesMax) bytes") }
            guard value.count <= limits.recordValueBytesMax else { throw .contentTooLarge("record \(position): value over \(limits.recordValueBytesMax) bytes") }
            let headers = try RequestJSON.headers(record, limits: limits)
            // A forwarded share of a request keeps each record's position in the original, which
            // is its index in an idempotent producer's batch.
            let originalPosition = try RequestJSON.integer(record, "position", range: 0...Int64(limits.batchRecordsMax)).map { Int($0) }
            let explicit = try RequestJSON.integer(record, "partition", range: 0...Int64(partitions - 1)).map { Int($0) }
            let partition = resolvePartition(explicit: explicit, key: key, stickySeed: stickySeed, partitions: partitions)
            items.append(Item(position: originalPosition ?? position, partition: partition, key: key, value: value[...], headers: headers))
        }
        return ProduceRequest(items: items, producerID: producerID, sequence: sequence)
    }
}

extension ProduceRequest {
    /// Where a record goes: its explicit partition, else hash(key) mod partitions, else the
    /// request's sticky partition (`stickySeed` mod partitions).
    static func resolvePartition(explicit: Int?, key: [UInt8]?, stickySeed: UInt64, partitions: Int) -> Int {
        if let explicit { return explicit }
        if let key { return Int(KeyHash.fnv1a(key) % UInt64(partitions)) }
        return Int(stickySeed % UInt64(partitions))
    }

    /// Where a request's records without a key or partition go, all of them together (Kafka's
    /// sticky partitioner, KIP-480): one request is then one share, one Raft proposal and at most
    /// one forward, however many partitions the topic has. Spreading each record round-robin
    /// cut a 16-record request into up to 16 shares, each its own proposal, and made throughput
    /// fall as partitions grew (docs/performance.md §10, §12). Requests rotate over the partitions
    /// (`roundRobinStart` advances per request). An idempotent producer's request goes by
    /// hash(producer, sequence) instead, so a retry through any node lands where the first
    /// attempt did and dedup finds it.
    static func stickySeed(producer: (id: UInt64, sequence: UInt64)?, roundRobinStart: Int) -> UInt64 {
        if let producer { return KeyHash.mix(producer.id, producer.sequence) }
        return UInt64(roundRobinStart)
    }
}

/// The partitioner's hash: FNV-1a 64, stable across nodes, versions and restarts.
enum KeyHash {
    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}

extension ProduceRequest {
    /// One partition's share of a request, for the node that leads it. The body is a binary
    /// batch (`application/vnd.mom.batch`): values travel as they are, so neither this node
    /// nor the leader spends CPU on base64 (it was half of a forwarding node's CPU).
    static func partitionRequest(
        _ items: [Item], topic: String, partition: Int, producer: (id: UInt64, sequence: UInt64)?, headers: HTTPHeaders
    ) -> HTTPRequest {
        var writer = BinaryWriter(capacity: 32 + items.reduce(0) { $0 + $1.value.count + ($1.key?.count ?? 0) + 24 })
        RecordBatchFormat.beginProduce(&writer, producer: producer, count: items.count)
        for item in items {
            RecordBatchFormat.append(
                position: UInt64(item.position), key: item.key, value: item.value, headers: item.headers.map { ($0.name, $0.value) },
                to: &writer)
        }
        var forwardedHeaders = HTTPHeaders()
        for name in ["Authorization", Forwarder.hopsHeader] {
            if let value = headers[name] { forwardedHeaders.set(name: name, value: value) }
        }
        forwardedHeaders.set(name: "Content-Type", value: RecordBatchFormat.mediaType)
        return HTTPRequest(method: .post, target: "/v1/topics/\(topic)/partitions/\(partition)/records", headers: forwardedHeaders, body: writer.bytes)
    }

    /// Reads the leader's answer to a forwarded share: its offsets, in the share's order.
    static func offsets(from response: HTTPResponse, items: [Item], partition: Int) -> Result<[(position: Int, partition: Int, offset: Offset)], Error> {
        guard response.status.code == 200 else {
            let error = (try? JSONValue(parsing: response.body))?["error"]
            let code = error?["code"]?.stringValue ?? "upstream_error"
            let message = error?["message"]?.stringValue ?? "the partition leader answered \(response.status.code)"
            var headers = HTTPHeaders()
            if let retry = response.headers["Retry-After"] { headers.set(name: "Retry-After", value: retry) }
            return .failure(HTTPError(response.status, code: code, message: message, headers: headers))
        }
        guard let offsets = scannedOffsets(response.body) ?? parsedOffsets(response.body), offsets.count == items.count else {
            return .failure(HTTPError.serviceUnavailable("the partition leader's answer was malformed; retry", code: "forward_failed"))
        }
        var result: [(position: Int, partition: Int, offset: Offset)] = []
        result.reserveCapacity(items.count)
        for (item, offset) in zip(items, offsets) {
            result.append((item.position, partition, Offset(offset)))
        }
        return .success(result)
    }
}
