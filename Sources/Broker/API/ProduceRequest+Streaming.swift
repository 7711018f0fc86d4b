import HTTPServer
import MOMCore

/// The JSON produce body read in one pass over its bytes: no `JSONValue` tree, no `String` per
/// member; a record's plain-text value is a slice of the body (no copy), an escaped or base64
/// one and the key are decoded into arrays of their own.
///
/// Why a second decoder: the tree was 7-14 % of the HTTP loop's CPU on the produce path
/// (docs/performance.md). Why it cannot change an answer: it takes only bodies it reads to
/// the end without a doubt and leaves everything else — every error, and shapes it does not
/// bother with (escaped member names, `1.0` as a partition, duplicate members) — to the tree
/// parser, which then answers as it always did. `ProduceStreamingTests` and the `json` fuzz
/// target hold the two to the same request for every body this one takes.
extension ProduceRequest {
    /// Which body: a produce (`records`, each may name its partition and position), a queue
    /// send (`messages`; the broker spreads them, so `partition` and `position` are ignored) or
    /// an exchange publish (`messages` with a `routing_key` each; no partition either).
    enum StreamingForm {
        case produce
        case queueSend
        case publish
    }

    /// The request the tree parser makes of the JSON `body` (`parse(_:partitions:…)`, or
    /// `parseQueueSendTree` for a queue send), or nil when the streaming pass leaves the body to it.
    static func parseStreaming(
        _ body: [UInt8], form: StreamingForm = .produce, partitions: Int, roundRobinStart: Int, limits: Limits
    ) -> ProduceRequest? {
        guard !body.isEmpty, body.count <= limits.requestBodyBytesMax else { return nil }
        return body.withUnsafeBufferPointer { buffer in
            var reader = StreamingProduceBody(
                scanner: JSONScanner(buffer, depthMax: RequestJSON.depthMax), body: body, form: form, limits: limits, partitions: partitions)
            return try? reader.read().request(partitions: partitions, roundRobinStart: roundRobinStart)
        }
    }
}

extension PublishRequest {
    /// The request `PublishRequest.parse` makes of the JSON tree of `body`, or nil when the
    /// streaming pass leaves the body to the tree parser.
    static func parseStreaming(_ body: [UInt8], limits: Limits) -> PublishRequest? {
        guard !body.isEmpty, body.count <= limits.requestBodyBytesMax else { return nil }
        return body.withUnsafeBufferPointer { buffer in
            var reader = StreamingProduceBody(
                scanner: JSONScanner(buffer, depthMax: RequestJSON.depthMax), body: body, form: .publish, limits: limits, partitions: 1)
            return try? reader.read().publishRequest(limits: limits)
        }
    }
}

/// A body as read: its records and the idempotent producer, when there is one.
private struct StreamedBody {
    let records: [StreamingProduceBody.Pending]
    let producer: (id: UInt64, sequence: UInt64)?

    func request(partitions: Int, roundRobinStart: Int) -> ProduceRequest {
        var items: [ProduceRequest.Item] = []
        items.reserveCapacity(records.count)
        let stickySeed = ProduceRequest.stickySeed(producer: producer, roundRobinStart: roundRobinStart)
        for (position, record) in records.enumerated() {
            let partition = ProduceRequest.resolvePartition(
                explicit: record.explicitPartition, key: record.key, stickySeed: stickySeed, partitions: partitions)
            items.append(ProduceRequest.Item(
                position: record.originalPosition ?? position, partition: partition, key: record.key, value: record.value,
                headers: record.headers))
        }
        return ProduceRequest(items: items, producerID: producer?.id, sequence: producer?.sequence)
    }

    func publishRequest(limits: Limits) throws(JSONScanner.Fallback) -> PublishRequest {
        var messages: [PublishRequest.Message] = []
        messages.reserveCapacity(records.count)
        for (position, record) in records.enumerated() {
            guard let routingKey = record.routingKey, routingKey.utf8.count <= limits.bindingKeyBytesMax, !routingKey.utf8.contains(0) else {
                throw JSONScanner.Fallback()
            }
            messages.append(PublishRequest.Message(
                position: position, routingKey: routingKey, key: record.key, value: record.value, headers: record.headers))
        }
        return PublishRequest(messages: messages, producer: producer)
    }
}

/// One pass over a produce body; every throw means "leave it to the tree parser".
private struct StreamingProduceBody {
    typealias Fallback = JSONScanner.Fallback

    /// A record as read, before its partition is resolved (that needs the producer fields,
    /// which may come after `records`).
    struct Pending {
        let key: [UInt8]?
        let value: ArraySlice<UInt8>
        let headers: [Header]
        let explicitPartition: Int?
        let originalPosition: Int?
        let routingKey: String?
    }

    var scanner: JSONScanner
    /// The array `scanner` reads (same indices), for values taken as slices of it.
    let body: [UInt8]
    let form: ProduceRequest.StreamingForm
    let limits: Limits
    let partitions: Int

    mutating func read() throws(Fallback) -> StreamedBody {
        var records: [Pending]?
        var producerID: Int64?
        var sequence: Int64?
        var seen: UInt8 = 0
        try scanner.enter(UInt8(ascii: "{"))
        if try !scanner.closesEmpty(UInt8(ascii: "}")) {
            repeat {
                let name = try scanner.memberName()
                if form == .produce ? scanner.matches(name, "records") : scanner.matches(name, "messages") {
                    try Self.once(0, &seen)
                    records = try readRecords()
                } else if scanner.matches(name, "producer_id") {
                    try Self.once(1, &seen)
                    producerID = try optionalInteger(0...Int64.max)
                } else if scanner.matches(name, "sequence") {
                    try Self.once(2, &seen)
                    sequence = try optionalInteger(0...Int64.max)
                } else {
                    try scanner.skipValue()
                }
            } while try scanner.next(closer: UInt8(ascii: "}"))
        }
        scanner.skipWhitespace()
        guard scanner.atEnd, let records, (producerID == nil) == (sequence == nil) else { throw Fallback() }
        return StreamedBody(records: records, producer: producerID.flatMap { id in sequence.map { (UInt64(id), UInt64($0)) } })
    }

    /// The record members the pass reads, each by its bit in `seen` (its index here). Queue
    /// sends and publishes skip `partition` and `position`; only publishes read `routing_key`.
    private static let recordMembers: [StaticString] = [
        "value", "key", "value_base64", "key_base64", "headers", "partition", "position", "routing_key",
    ]

    /// Marks member `bit` as seen; a repeated member (the tree keeps the last) falls back.
    private static func once(_ bit: UInt8, _ seen: inout UInt8) throws(Fallback) {
        guard seen & (1 << bit) == 0 else { throw Fallback() }
        seen |= 1 << bit
    }

    private mutating func readRecords() throws(Fallback) -> [Pending] {
        try scanner.enter(UInt8(ascii: "["))
        guard try !scanner.closesEmpty(UInt8(ascii: "]")) else { throw Fallback() }
        var records: [Pending] = []
        // Room for a typical batch at once instead of five doublings on the way to 16.
        records.reserveCapacity(min(16, limits.batchRecordsMax))
        repeat {
            guard records.count < limits.batchRecordsMax else { throw Fallback() }
            records.append(try readRecord())
        } while try scanner.next(closer: UInt8(ascii: "]"))
        return records
    }

    private mutating func readRecord() throws(Fallback) -> Pending {
        var key, keyBase64, value, valueBase64: JSONScanner.StringSpan?
        var headers: [Header] = []
        var partition, position: Int64?
        var routingKey: String?
        var seen: UInt8 = 0
        try scanner.enter(UInt8(ascii: "{"))
        if try !scanner.closesEmpty(UInt8(ascii: "}")) {
            repeat {
                let name = try scanner.memberName()
                let member = Self.recordMembers.firstIndex { scanner.matches(name, $0) }
                if let member { try Self.once(UInt8(member), &seen) }
                switch member ?? -1 {
                case 0: value = try optionalString()
                case 1: key = try optionalString()
                case 2: valueBase64 = try optionalString()
                case 3: keyBase64 = try optionalString()
                case 4: headers = try readHeaders()
                case 5 where form == .produce: partition = try optionalInteger(0...Int64(partitions - 1))
                case 6 where form == .produce: position = try optionalInteger(0...Int64(limits.batchRecordsMax))
                case 7 where form == .publish: routingKey = String(decoding: try scanner.bytes(try scanner.string()), as: UTF8.self)
                default: try scanner.skipValue()
                }
            } while try scanner.next(closer: UInt8(ascii: "}"))
        }
        // Text wins over base64 when both are there, as in `RequestJSON.bytes`.
        let keyBytes = try bytes(text: key, base64: keyBase64)
        let valueBytes: ArraySlice<UInt8>
        if let value, !value.escaped {
            valueBytes = body[value.start..<value.end]
        } else {
            guard let decoded = try bytes(text: value, base64: valueBase64) else { throw Fallback() }
            valueBytes = decoded[...]
        }
        guard (keyBytes?.count ?? 0) <= limits.recordKeyBytesMax, valueBytes.count <= limits.recordValueBytesMax else { throw Fallback() }
        return Pending(
            key: keyBytes, value: valueBytes, headers: headers,
            explicitPartition: partition.map { Int($0) }, originalPosition: position.map { Int($0) }, routingKey: routingKey)
    }

    /// Record headers: an object of string → string, every member kept in body order.
    private mutating func readHeaders() throws(Fallback) -> [Header] {
        if try scanner.takeNull() { return [] }
        try scanner.enter(UInt8(ascii: "{"))
        if try scanner.closesEmpty(UInt8(ascii: "}")) { return [] }
        var headers: [Header] = []
        repeat {
            guard headers.count < limits.recordHeadersMax else { throw Fallback() }
            let name = try scanner.memberName()
            let length = name.end - name.start
            guard length > 0, length <= limits.recordHeaderNameBytesMax else { throw Fallback() }
            let text = try scanner.string()
            headers.append(Header(String(decoding: scanner.raw(name), as: UTF8.self), try scanner.bytes(text)))
        } while try scanner.next(closer: UInt8(ascii: "}"))
        return headers
    }

    private mutating func optionalString() throws(Fallback) -> JSONScanner.StringSpan? {
        if try scanner.takeNull() { return nil }
        return try scanner.string()
    }

    private mutating func optionalInteger(_ range: ClosedRange<Int64>) throws(Fallback) -> Int64? {
        if try scanner.takeNull() { return nil }
        let number = try scanner.integer()
        guard range.contains(number) else { throw Fallback() }
        return number
    }

    /// A field given as UTF-8 text or as base64; nil when neither is there.
    private mutating func bytes(text: JSONScanner.StringSpan?, base64: JSONScanner.StringSpan?) throws(Fallback) -> [UInt8]? {
        if let text { return try scanner.bytes(text) }
        guard let base64 else { return nil }
        do {
            if base64.escaped { return try Base64.decode(bytes: try scanner.bytes(base64)) }
            return try Base64.decode(buffer: scanner.raw(base64))
        } catch {
            throw Fallback()
        }
    }
}
