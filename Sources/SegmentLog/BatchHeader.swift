import MOMCore

/// The fixed header in front of every record batch on disk (DESIGN.md §3), 64 bytes, little-endian:
///
/// ```
///  0 length                 u32  whole batch, header included
///  4 crc32c                 u32  over bytes [8, length)
///  8 magic                  u8   format version (1)
///  9 reserved               u8   zero
/// 10 attributes             u16  opaque flags for upper layers (control batch, Raft entry kind)
/// 12 recordCount            u32  at least 1
/// 16 baseOffset             u64  offset of the first record
/// 24 term                   u64  Raft term of every record in the batch
/// 32 firstTimestampMs       i64
/// 40 maxTimestampMs         i64
/// 48 producerID             u64  0 = none
/// 56 sequence               u64  producer sequence of the first record
/// 64 records: recordCount × (LEB128 length, bytes)
/// ```
public struct BatchHeader: Equatable, Sendable {
    /// The header's size in bytes.
    public static let size = 64
    /// The only format version written and accepted.
    public static let currentMagic: UInt8 = 1

    /// The batch's total size in bytes, header included.
    public var length: UInt32
    /// CRC32C over everything after the checksum field.
    public var checksum: UInt32
    /// Opaque flags the upper layers define; the log stores them untouched.
    public var attributes: UInt16
    /// Records in the batch (at least 1).
    public var recordCount: UInt32
    /// Offset of the first record.
    public var baseOffset: Offset
    /// Raft term of the batch's records.
    public var term: Term
    /// Timestamp of the first record, milliseconds since the Unix epoch.
    public var firstTimestampMilliseconds: Int64
    /// Largest record timestamp, used by age-based retention and rolling.
    public var maxTimestampMilliseconds: Int64
    /// Producer for deduplication, 0 when none.
    public var producerID: UInt64
    /// The producer's sequence number of the first record.
    public var sequence: UInt64

    /// One past the batch's last record.
    public var nextOffset: Offset { baseOffset.advanced(by: UInt64(recordCount)) }
    /// The batch's last record.
    public var lastOffset: Offset { baseOffset.advanced(by: UInt64(recordCount) - 1) }

    /// Decodes a header without validating it; `validate` says whether it can be trusted.
    init(decoding raw: UnsafeRawBufferPointer) {
        precondition(raw.count >= Self.size, "header needs \(Self.size) bytes")
        length = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
        checksum = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        attributes = UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 10, as: UInt16.self))
        recordCount = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
        baseOffset = Offset(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 16, as: UInt64.self)))
        term = Term(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 24, as: UInt64.self)))
        firstTimestampMilliseconds = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 32, as: Int64.self))
        maxTimestampMilliseconds = Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 40, as: Int64.self))
        producerID = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 48, as: UInt64.self))
        sequence = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 56, as: UInt64.self))
    }

    /// Reads the magic and reserved bytes, which the struct does not keep.
    static func formatIsKnown(_ raw: UnsafeRawBufferPointer) -> Bool {
        raw[8] == currentMagic && raw[9] == 0
    }

    /// Checks the cheap header invariants: a sane length and count, a known format.
    static func checkShape(_ raw: UnsafeRawBufferPointer, limits: Limits) -> BatchError? {
        let header = BatchHeader(decoding: raw)
        if !formatIsKnown(raw) { return .unknownFormat }
        if header.length < UInt32(size) || Int(header.length) > limits.batchBytesMax + size {
            return .badLength(header.length)
        }
        if header.recordCount == 0 || Int(header.recordCount) > limits.batchRecordsMax {
            return .badRecordCount(header.recordCount)
        }
        // The smallest record is one length byte.
        if UInt64(header.recordCount) > UInt64(header.length) - UInt64(size) { return .badRecordCount(header.recordCount) }
        return nil
    }

    /// Writes `baseOffset` into an encoded batch.
    static func store(baseOffset: Offset, into raw: UnsafeMutableRawBufferPointer) {
        raw.storeBytes(of: baseOffset.rawValue.littleEndian, toByteOffset: 16, as: UInt64.self)
    }

    /// Computes and writes the checksum of an encoded batch of `length` bytes.
    static func sealChecksum(_ raw: UnsafeMutableRawBufferPointer) {
        let checksum = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[8...]))
        raw.storeBytes(of: checksum.littleEndian, toByteOffset: 4, as: UInt32.self)
    }

    /// Whether the stored checksum matches the bytes of the whole batch in `raw`.
    static func checksumMatches(_ raw: UnsafeRawBufferPointer) -> Bool {
        let stored = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        return CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[8...])) == stored
    }
}

/// Why a batch's bytes cannot be trusted.
public enum BatchError: Error, Equatable, Sendable {
    case unknownFormat
    case badLength(UInt32)
    case badRecordCount(UInt32)
    case checksumMismatch
    case badRecords
    case unexpectedOffset(expected: Offset, found: Offset)
}

/// The records of one validated batch: each one's start and length in the batch's bytes.
enum BatchRecords {
    /// Walks the records of a batch (whole batch in `raw`), calling `body` with each record's
    /// range; fails if the records do not exactly fill the batch.
    static func forEach(
        in raw: UnsafeRawBufferPointer, count: UInt32, _ body: (Int, Range<Int>) -> Void
    ) throws(BatchError) {
        var position = BatchHeader.size
        for index in 0..<Int(count) {
            var length: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                guard position < raw.count, shift < 63 else { throw .badRecords }
                let byte = raw[position]
                position += 1
                length |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { break }
                shift += 7
            }
            guard length <= UInt64(raw.count - position) else { throw .badRecords }
            let end = position + Int(length)
            body(index, position..<end)
            position = end
        }
        guard position == raw.count else { throw .badRecords }
    }

    /// Full validation of one batch held in `raw` (exactly `length` bytes).
    static func validate(_ raw: UnsafeRawBufferPointer, limits: Limits, checksums: Bool = true) throws(BatchError) {
        if let problem = BatchHeader.checkShape(raw, limits: limits) { throw problem }
        let header = BatchHeader(decoding: raw)
        guard raw.count == Int(header.length) else { throw .badLength(header.length) }
        if checksums && !BatchHeader.checksumMatches(raw) { throw .checksumMismatch }
        try forEach(in: raw, count: header.recordCount) { _, _ in }
    }
}
