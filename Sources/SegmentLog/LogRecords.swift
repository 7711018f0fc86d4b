import MOMCore

/// One record read from the log, with its batch's metadata. `value` shares the read buffer.
public struct LogRecord: Sendable {
    /// The record's offset.
    public let offset: Offset
    /// The Raft term of its batch.
    public let term: Term
    /// Its batch's opaque attributes.
    public let attributes: UInt16
    /// Its batch's max timestamp, milliseconds since the Unix epoch.
    public let timestampMilliseconds: Int64
    /// Its batch's producer (0 = none).
    public let producerID: UInt64
    /// The producer sequence of this record (batch sequence + position in the batch).
    public let sequence: UInt64
    /// The opaque record bytes.
    public let value: ArraySlice<UInt8>
}

/// The result of `SegmentLog.read`: the whole batches read, in one buffer, and where each
/// requested record sits in it. One allocation per read, none per record.
public struct LogRecords: RandomAccessCollection, Sendable {
    struct Location: Sendable {
        var offset: Offset
        var batch: Int32
        var start: Int32
        var count: Int32
    }

    /// The batches as stored on disk (also what a zero-copy fetch would send).
    public let bytes: [UInt8]
    let headers: [BatchHeader]
    let locations: [Location]
    /// The offset to read next.
    public let nextOffset: Offset

    public var startIndex: Int { 0 }
    public var endIndex: Int { locations.count }

    public subscript(position: Int) -> LogRecord {
        let location = locations[position]
        let header = headers[Int(location.batch)]
        let start = Int(location.start)
        return LogRecord(
            offset: location.offset, term: header.term, attributes: header.attributes,
            timestampMilliseconds: header.maxTimestampMilliseconds, producerID: header.producerID,
            sequence: header.sequence &+ (location.offset.rawValue - header.baseOffset.rawValue),
            value: bytes[start..<(start + Int(location.count))])
    }

    static let empty = LogRecords(bytes: [], headers: [], locations: [], nextOffset: .zero)
}

/// Whole batches as stored, for replication and fetch: the first batch holds the requested
/// offset, so it may start before it.
public struct EncodedBatches: Sendable {
    /// Concatenated batches, each starting with its `BatchHeader`.
    public let bytes: [UInt8]
    /// Base offset of the first batch.
    public let firstOffset: Offset
    /// One past the last record included.
    public let nextOffset: Offset
}
