import HTTPServer
import MOMCore

/// Produce bodies in `application/vnd.mom.batch` (see `RecordBatchFormat`), the form that
/// forwarded shares use and that clients may send to skip JSON and base64.
extension ProduceRequest {
    /// Parses a produce body by its `Content-Type`: the binary batch, or JSON otherwise.
    static func parse(_ request: HTTPRequest, partitions: Int, roundRobinStart: Int, limits: Limits) throws(HTTPError) -> ProduceRequest {
        if isBinaryBatch(request.headers["Content-Type"]) {
            return try parse(binary: request.body, partitions: partitions, roundRobinStart: roundRobinStart, limits: limits)
        }
        if let streamed = parseStreaming(request.body, partitions: partitions, roundRobinStart: roundRobinStart, limits: limits) {
            return streamed
        }
        return try parseTree(request, partitions: partitions, roundRobinStart: roundRobinStart, limits: limits)
    }

    /// The JSON body through the `JSONValue` tree: every body the streaming pass leaves, every
    /// error answer, and the oracle its tests compare it with.
    static func parseTree(_ request: HTTPRequest, partitions: Int, roundRobinStart: Int, limits: Limits) throws(HTTPError) -> ProduceRequest {
        let body = try RequestJSON.object(request, limits: limits)
        return try parse(body, partitions: partitions, roundRobinStart: roundRobinStart, limits: limits)
    }

    /// Whether a `Content-Type` (or `Accept`) value names the binary batch, parameters aside.
    /// Compared byte by byte: it runs on every produce and fetch, and generic `String`
    /// slicing here once cost 6 % of a node's CPU.
    static func isBinaryBatch(_ mediaType: String?) -> Bool {
        guard var mediaType else { return false }
        return mediaType.withUTF8 { bytes in
            var start = 0
            var end = bytes.firstIndex(of: UInt8(ascii: ";")) ?? bytes.count
            while start < end, bytes[start] == UInt8(ascii: " ") || bytes[start] == UInt8(ascii: "\t") { start += 1 }
            while end > start, bytes[end - 1] == UInt8(ascii: " ") || bytes[end - 1] == UInt8(ascii: "\t") { end -= 1 }
            let expected = binaryMediaTypeBytes
            guard end - start == expected.count else { return false }
            for index in 0..<expected.count {
                let byte = bytes[start + index]
                let lowered = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
                if lowered != expected[index] { return false }
            }
            return true
        }
    }

    private static let binaryMediaTypeBytes = Array(RecordBatchFormat.mediaType.utf8)

    /// Parses a binary produce batch; malformed input is a 400 that says what is wrong.
    static func parse(binary body: [UInt8], partitions: Int, roundRobinStart: Int, limits: Limits) throws(HTTPError) -> ProduceRequest {
        // The values stay where they are in the body: each item's value is a slice of it.
        let batch: RecordBatchFormat.Batch
        let valueRanges: [Range<Int>]
        do {
            (batch, valueRanges) = try RecordBatchFormat.decodeLeavingValues(body, limits: RecordBatchFormat.DecodeLimits(limits))
        } catch {
            throw .badRequest(error.description)
        }
        guard batch.kind == .produce else { throw .badRequest("a produce body must be a produce batch (kind 1), not a fetch answer") }
        guard !batch.records.isEmpty else { throw .badRequest("the batch is empty; send at least one record") }
        if let producer = batch.producer, producer.id > UInt64(Int64.max) || producer.sequence > UInt64(Int64.max) {
            throw .badRequest("'producer_id' and 'sequence' must be between 0 and \(Int64.max)")
        }
        let stickySeed = stickySeed(producer: batch.producer.map { ($0.id, $0.sequence) }, roundRobinStart: roundRobinStart)
        var items: [Item] = []
        items.reserveCapacity(batch.records.count)
        for (position, record) in batch.records.enumerated() {
            guard record.offset == nil, record.timestampMilliseconds == nil else {
                throw .badRequest("record \(position): offsets and timestamps are assigned by the broker; leave them out")
            }
            var explicit: Int?
            if let partition = record.partition {
                guard partition < UInt64(partitions) else { throw .badRequest("record \(position): 'partition' must be between 0 and \(partitions - 1)") }
                explicit = Int(partition)
            }
            var originalPosition = position
            if let forwarded = record.position {
                guard forwarded <= UInt64(limits.batchRecordsMax) else { throw .badRequest("record \(position): 'position' must be at most \(limits.batchRecordsMax)") }
                originalPosition = Int(forwarded)
            }
            let partition = resolvePartition(explicit: explicit, key: record.key, stickySeed: stickySeed, partitions: partitions)
            items.append(Item(
                position: originalPosition, partition: partition, key: record.key, value: body[valueRanges[position]],
                headers: record.headers.map { Header($0.name, $0.value) }))
        }
        return ProduceRequest(items: items, producerID: batch.producer?.id, sequence: batch.producer?.sequence)
    }
}
