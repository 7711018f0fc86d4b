import Broker
import HTTPServer
import MOMCore

/// The produce body decoder (`ProduceBodyCodec.decode`: the JSON parser, then the record-batch
/// checks of `POST /v1/topics/{t}/records`).
///
/// Oracles: generated bodies (text and base64 forms, explicit, keyed and sticky
/// partitions, headers, idempotent-producer fields) decode to exactly the generated records;
/// forwarded bodies (`encodeForwarded`) decode to what was encoded; any input decodes or throws
/// an `HTTPError` with a 4xx status (never a 500); whatever decodes respects every record limit.
struct ProduceBodyFuzzTarget: FuzzTarget {
    static let limits: Limits = {
        var limits = Limits()
        limits.batchRecordsMax = 64
        limits.recordKeyBytesMax = 128
        limits.recordValueBytesMax = 1_024
        limits.recordHeadersMax = 8
        limits.recordHeaderNameBytesMax = 32
        limits.requestBodyBytesMax = 64 << 10
        return limits
    }()
    static let partitions = 5
    let mutator = ByteMutator(lengthMax: 64 << 10)

    func run(random: inout SeededRandom) throws(FuzzFinding) {
        let (body, expected) = ProduceBodyFuzzTarget.body(&random)
        switch InputShape.draw(&random) {
        case .valid:
            if random.chance(1, in: 3) {
                try checkForwarded(expected, random: &random)
                return
            }
            let decoded = try decode(body)
            guard decoded == expected else {
                throw FuzzFinding("body \(String(decoding: body, as: UTF8.self)) decoded to \(String(describing: decoded)), expected \(expected)")
            }
            // The generated shape is the common one: the streaming pass must take it itself.
            guard ProduceBodyCodec.decodeStreaming(body, partitions: Self.partitions, limits: Self.limits) != nil else {
                throw FuzzFinding("the streaming pass left a generated body to the tree parser: \(String(decoding: body, as: UTF8.self))")
            }
        case .mutated:
            let input = mutator.mutate(body, other: ProduceBodyFuzzTarget.body(&random).bytes, random: &random)
            _ = try decode(input)
        case .random:
            _ = try decode(mutator.randomBytes(random: &random))
        }
    }

    /// Decodes `bytes`; nil for a 4xx, a finding for a 5xx or a decoded body over the limits.
    /// A JSON body is also decoded by the tree parser alone (the oracle): the route's answer
    /// (streaming pass first) must be the same request, or the same status, code and message.
    private func decode(_ bytes: [UInt8], contentType: String? = nil) throws(FuzzFinding) -> ProduceBodyCodec.Body? {
        let limits = ProduceBodyFuzzTarget.limits
        let body: ProduceBodyCodec.Body
        let routeAnswer = Result { () throws(HTTPError) in
            try ProduceBodyCodec.decode(bytes, contentType: contentType, partitions: ProduceBodyFuzzTarget.partitions, limits: limits)
        }
        if contentType == nil { try Self.compareWithTree(bytes, routeAnswer: routeAnswer) }
        switch routeAnswer {
        case .success(let decoded): body = decoded
        case .failure(let error):
            guard (400..<500).contains(Int(error.status.code)) else { throw FuzzFinding("decode answered \(error.status.code): \(error)") }
            return nil
        }
        guard !body.records.isEmpty, body.records.count <= limits.batchRecordsMax else {
            throw FuzzFinding("decoded \(body.records.count) records")
        }
        for record in body.records {
            guard (0..<ProduceBodyFuzzTarget.partitions).contains(record.partition),
                  record.value.count <= limits.recordValueBytesMax, (record.key?.count ?? 0) <= limits.recordKeyBytesMax,
                  record.headers.count <= limits.recordHeadersMax
            else { throw FuzzFinding("decoded record outside the limits: \(record)") }
        }
        return body
    }

    /// The streaming pass agrees with the tree parser on whatever it takes, and the route's
    /// answer is the tree parser's, accept or reject.
    static func compareWithTree(_ bytes: [UInt8], routeAnswer: Result<ProduceBodyCodec.Body, HTTPError>) throws(FuzzFinding) {
        let treeAnswer = Result { () throws(HTTPError) in
            try ProduceBodyCodec.decode(bytes, partitions: partitions, limits: limits, json: .tree)
        }
        let text = String(decoding: bytes.prefix(2_000), as: UTF8.self)
        if let streamed = ProduceBodyCodec.decodeStreaming(bytes, partitions: partitions, limits: limits) {
            guard case .success(let expected) = treeAnswer, expected == streamed else {
                throw FuzzFinding("streaming decoded \(streamed), tree answered \(treeAnswer): \(text)")
            }
        }
        switch (routeAnswer, treeAnswer) {
        case (.success(let route), .success(let tree)) where route == tree: return
        case (.failure(let route), .failure(let tree))
            where route.status.code == tree.status.code && route.code == tree.code && route.message == tree.message: return
        default: throw FuzzFinding("route answered \(routeAnswer), tree \(treeAnswer): \(text)")
        }
    }

    /// A node's forwarded share decodes to exactly the records it carries.
    private func checkForwarded(_ expected: ProduceBodyCodec.Body, random: inout SeededRandom) throws(FuzzFinding) {
        let partition = Int(random.uniform(below: UInt64(ProduceBodyFuzzTarget.partitions)))
        let producer = expected.producerID.map { ($0, expected.sequence ?? 0) }
        let records = expected.records.map { record in
            var forced = record
            forced.partition = partition
            return forced
        }
        let bytes = ProduceBodyCodec.encodeForwarded(records, partition: partition, producer: producer)
        // The per-partition route forces the partition; the decoder alone resolves it again.
        guard var decoded = try decode(bytes, contentType: ProduceBodyCodec.forwardedContentType) else {
            throw FuzzFinding("forwarded body refused: \(bytes.count) bytes")
        }
        for position in decoded.records.indices { decoded.records[position].partition = partition }
        let wanted = ProduceBodyCodec.Body(records: records, producerID: producer?.0, sequence: producer?.1)
        guard decoded == wanted else { throw FuzzFinding("forwarded body decoded to \(decoded), expected \(wanted)") }
    }

    /// A generated body and the records it must decode to.
    static func body(_ random: inout SeededRandom) -> (bytes: [UInt8], expected: ProduceBodyCodec.Body) {
        var writer = JSONWriter()
        var records: [ProduceBodyCodec.Record] = []
        writer.beginObject()
        var producer: (UInt64, UInt64)?
        if random.chance(1, in: 4) {
            producer = (random.uniform(below: 1 << 40), random.uniform(below: 1 << 20))
            writer.key("producer_id"); writer.unsigned(producer!.0)
            writer.key("sequence"); writer.unsigned(producer!.1)
        }
        writer.key("records")
        writer.beginArray()
        for position in 0...Int(random.uniform(below: 6)) {
            records.append(record(position: position, idempotent: producer != nil, writer: &writer, random: &random))
        }
        writer.endArray()
        writer.endObject()
        return (writer.bytes, ProduceBodyCodec.Body(records: records, producerID: producer?.0, sequence: producer?.1))
    }

    private static func record(position: Int, idempotent: Bool, writer: inout JSONWriter, random: inout SeededRandom) -> ProduceBodyCodec.Record {
        writer.beginObject()
        var key: [UInt8]?
        if random.chance(1, in: 2) {
            key = writeBytes(random.bytes(random.length(max: 100)), named: "key", writer: &writer, random: &random)
        }
        let value = random.bytes(random.length(max: 900))
        let valueSent = writeBytes(value, named: "value", writer: &writer, random: &random)
        var headers: [ProduceBodyCodec.HeaderField] = []
        if random.chance(1, in: 3) {
            writer.key("headers")
            writer.beginObject()
            for index in 0..<Int(random.uniform(below: 4)) {
                let text = String(decoding: random.bytes(random.length(max: 20)).map { 0x20 + $0 % 0x5F }, as: UTF8.self) + "é"
                headers.append(.init(name: "h\(index)", value: Array(text.utf8)))
                writer.key("h\(index)")
                writer.string(text)
            }
            writer.endObject()
        }
        let partition: Int
        // A keyless record of an idempotent producer goes to hash(producer, sequence), an
        // internal mix this oracle does not restate: such records name their partition.
        if random.chance(1, in: 3) || (key == nil && idempotent) {
            partition = Int(random.uniform(below: UInt64(partitions)))
            writer.key("partition"); writer.integer(partition)
        } else if let key {
            partition = Int(fnv1a(key) % UInt64(partitions))
        } else {
            // The request's sticky partition: the codec decodes with the rotation at 0.
            partition = 0
        }
        writer.endObject()
        return ProduceBodyCodec.Record(position: position, partition: partition, key: key, value: valueSent, headers: headers)
    }

    /// Writes `bytes` as UTF-8 text (when they are printable ASCII, half the time) or base64;
    /// returns the bytes the decoder must produce.
    private static func writeBytes(_ bytes: [UInt8], named name: String, writer: inout JSONWriter, random: inout SeededRandom) -> [UInt8] {
        if random.chance(1, in: 2) {
            let text = bytes.map { 0x20 + $0 % 0x5F }
            writer.key(name)
            writer.utf8String(text)
            return text
        }
        writer.key(name + "_base64")
        writer.base64String(bytes)
        return bytes
    }

    /// The partitioner's documented hash (FNV-1a 64), written out independently of the broker's
    /// so the fuzzer cross-checks keyed partitioning too.
    static func fnv1a(_ bytes: [UInt8]) -> UInt64 {
        bytes.reduce(0xCBF2_9CE4_8422_2325) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01B3 }
    }
}
