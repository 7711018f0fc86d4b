import Foundation
import MOMCore

/// A record to publish to a topic or send to a queue. Key and value are bytes; text that is
/// valid UTF-8 goes as `key`/`value`, anything else as `key_base64`/`value_base64`.
public struct OutgoingRecord: Sendable, Equatable, Encodable {
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [String: String]
    /// An explicit partition; nil lets the broker pick hash(key) mod partitions. Ignored by queues.
    public var partition: Int?

    /// A record from bytes.
    public init(key: [UInt8]? = nil, value: [UInt8], headers: [String: String] = [:], partition: Int? = nil) {
        self.key = key
        self.value = value
        self.headers = headers
        self.partition = partition
    }

    /// A record from text.
    public init(key: String? = nil, value: String, headers: [String: String] = [:], partition: Int? = nil) {
        self.init(key: key.map { Array($0.utf8) }, value: Array(value.utf8), headers: headers, partition: partition)
    }

    enum CodingKeys: String, CodingKey {
        case key, value, headers, partition
        case keyBase64 = "key_base64"
        case valueBase64 = "value_base64"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try BytesField.encode(key, into: &container, text: .key, base64: .keyBase64)
        try BytesField.encode(value, into: &container, text: .value, base64: .valueBase64)
        if !headers.isEmpty { try container.encode(headers, forKey: .headers) }
        try container.encodeIfPresent(partition, forKey: .partition)
    }
}

/// Where a published record landed.
public struct RecordPosition: Sendable, Equatable, Codable {
    public var partition: Int
    public var offset: Offset

    public init(partition: Int, offset: Offset) {
        self.partition = partition
        self.offset = offset
    }

    enum CodingKeys: String, CodingKey { case partition, offset }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        partition = try container.decode(Int.self, forKey: .partition)
        offset = Offset(try container.decode(UInt64.self, forKey: .offset))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(partition, forKey: .partition)
        try container.encode(offset.rawValue, forKey: .offset)
    }
}

/// A record read from a partition or a subscription.
public struct FetchedRecord: Sendable, Equatable, Decodable {
    /// Set for subscription reads, which span partitions; nil for a single-partition fetch.
    public var partition: Int?
    public var offset: Offset
    public var timestampMilliseconds: Int64
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [String: String]

    /// The value as text, if it is UTF-8.
    public var valueText: String? { String(validating: value, as: UTF8.self) }
    /// The key as text, if there is one and it is UTF-8.
    public var keyText: String? { key.flatMap { String(validating: $0, as: UTF8.self) } }

    enum CodingKeys: String, CodingKey {
        case partition, offset, key, value, headers
        case timestampMilliseconds = "timestamp_ms"
        case keyBase64 = "key_base64"
        case valueBase64 = "value_base64"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        partition = try container.decodeIfPresent(Int.self, forKey: .partition)
        offset = Offset(try container.decode(UInt64.self, forKey: .offset))
        timestampMilliseconds = try container.decodeIfPresent(Int64.self, forKey: .timestampMilliseconds) ?? 0
        key = try BytesField.decode(from: container, text: .key, base64: .keyBase64)
        value = try BytesField.decode(from: container, text: .value, base64: .valueBase64) ?? []
        headers = try container.decodeIfPresent([String: String].self, forKey: .headers) ?? [:]
    }
}

/// One page of a partition fetch. Offsets may have gaps (control records are skipped):
/// always continue from `nextOffset`.
public struct FetchResult: Sendable, Equatable, Decodable {
    public var records: [FetchedRecord]
    public var nextOffset: Offset
    public var highWatermark: Offset
    public var logStartOffset: Offset

    enum CodingKeys: String, CodingKey {
        case records
        case nextOffset = "next_offset"
        case highWatermark = "high_watermark"
        case logStartOffset = "log_start_offset"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        records = try container.decode([FetchedRecord].self, forKey: .records)
        nextOffset = Offset(try container.decode(UInt64.self, forKey: .nextOffset))
        highWatermark = Offset(try container.decode(UInt64.self, forKey: .highWatermark))
        logStartOffset = Offset(try container.decode(UInt64.self, forKey: .logStartOffset))
    }
}

/// Producer identity for idempotent publishing: a retried `(producerID, sequence)` returns the
/// original offsets and writes nothing new. Use one sequence number per batch, increasing.
public struct ProducerSequence: Sendable, Equatable {
    public var producerID: UInt64
    public var sequence: UInt64

    public init(producerID: UInt64, sequence: UInt64) {
        self.producerID = producerID
        self.sequence = sequence
    }
}

struct ProduceRequestBody: Encodable {
    var records: [OutgoingRecord]
    var producerID: UInt64?
    var sequence: UInt64?
    enum CodingKeys: String, CodingKey {
        case records, sequence
        case producerID = "producer_id"
    }
}

struct OffsetsBody: Codable {
    var offsets: [RecordPosition]
}

struct RecordsBody: Decodable {
    var records: [FetchedRecord]
}
