/// `application/vnd.mom.batch`: records in a compact binary form, for produce bodies, fetch
/// answers and node-to-node forwarding. JSON carries binary values only as base64 (a third
/// larger, and CPU to encode and decode); this form carries them as they are.
///
/// Layout (integers little-endian; "varint" is LEB128):
///
///     batch    = "MOMB" version:u8(=1) kind:u8 flags:u8 [header] count:varint record{count}
///     header   = produce (kind 1): [producer_id:varint sequence:varint] when flags bit 0
///                fetch (kind 2):   next_offset:varint high_watermark:varint log_start_offset:varint
///     record   = length:u32 crc32c:u32 body            (CRC32C of the `length` body bytes)
///     body     = attributes:u8 [partition:varint] [position:varint] [offset:varint]
///                [timestamp_ms:varint] [key:varint-length bytes] value:varint-length bytes
///                header_count:varint (name:varint-length UTF-8, value:varint-length UTF-8){header_count}
///     attributes bit 0 key, 1 partition, 2 position, 3 offset, 4 timestamp; the rest are zero
///
/// Decoding is total and strict: truncation, a bad CRC, unknown bits, lengths over the limits,
/// non-UTF-8 header text and trailing bytes all throw `RecordBatchFormat.Error`.
public enum RecordBatchFormat {
    /// The media type, for `Content-Type` and `Accept`.
    public static let mediaType = "application/vnd.mom.batch"
    static let magic: [UInt8] = Array("MOMB".utf8)
    static let version: UInt8 = 1

    /// What a batch is for: a produce request or a fetch answer.
    public enum Kind: UInt8, Sendable {
        case produce = 1
        case fetch = 2
    }

    /// One record. Produce sets `key`, `value`, `headers` and optionally `partition` and
    /// `position`; a fetch answer sets `offset` and `timestampMilliseconds`.
    public struct Record: Equatable, Sendable {
        public var partition: UInt64?
        /// The record's index in the original request (a forwarded share keeps it).
        public var position: UInt64?
        public var offset: UInt64?
        public var timestampMilliseconds: UInt64?
        public var key: [UInt8]?
        public var value: [UInt8]
        /// Names and values are UTF-8.
        public var headers: [(name: String, value: [UInt8])]

        public init(
            partition: UInt64? = nil, position: UInt64? = nil, offset: UInt64? = nil, timestampMilliseconds: UInt64? = nil,
            key: [UInt8]? = nil, value: [UInt8], headers: [(name: String, value: [UInt8])] = []
        ) {
            self.partition = partition
            self.position = position
            self.offset = offset
            self.timestampMilliseconds = timestampMilliseconds
            self.key = key
            self.value = value
            self.headers = headers
        }

        public static func == (left: Record, right: Record) -> Bool {
            left.partition == right.partition && left.position == right.position && left.offset == right.offset
                && left.timestampMilliseconds == right.timestampMilliseconds && left.key == right.key && left.value == right.value
                && left.headers.map(\.name) == right.headers.map(\.name) && left.headers.map(\.value) == right.headers.map(\.value)
        }
    }

    /// The batch-level fields of a fetch answer.
    public struct FetchPosition: Equatable, Sendable {
        public var nextOffset: UInt64
        public var highWatermark: UInt64
        public var logStartOffset: UInt64
        public init(nextOffset: UInt64, highWatermark: UInt64, logStartOffset: UInt64) {
            self.nextOffset = nextOffset
            self.highWatermark = highWatermark
            self.logStartOffset = logStartOffset
        }
    }

    /// A decoded batch.
    public struct Batch: Equatable, Sendable {
        public var kind: Kind
        public var producer: (id: UInt64, sequence: UInt64)?
        public var fetch: FetchPosition?
        public var records: [Record]

        public init(kind: Kind, producer: (id: UInt64, sequence: UInt64)? = nil, fetch: FetchPosition? = nil, records: [Record]) {
            self.kind = kind
            self.producer = producer
            self.fetch = fetch
            self.records = records
        }

        public static func == (left: Batch, right: Batch) -> Bool {
            left.kind == right.kind && left.producer?.id == right.producer?.id && left.producer?.sequence == right.producer?.sequence
                && left.fetch == right.fetch && left.records == right.records
        }
    }

    /// Why a body was rejected; `description` is meant for a 400 answer.
    public struct Error: Swift.Error, Equatable, Sendable, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// Bounds applied while decoding, from `Limits`.
    public struct DecodeLimits: Sendable {
        public var recordsMax: Int
        public var keyBytesMax: Int
        public var valueBytesMax: Int
        public var headersMax: Int
        public var headerNameBytesMax: Int
        public init(_ limits: Limits) {
            recordsMax = limits.batchRecordsMax
            keyBytesMax = limits.recordKeyBytesMax
            valueBytesMax = limits.recordValueBytesMax
            headersMax = limits.recordHeadersMax
            headerNameBytesMax = limits.recordHeaderNameBytesMax
        }
    }
}
