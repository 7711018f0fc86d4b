import MOMCore

/// Where callers build record batches for `SegmentLog.append`: records are copied once, from
/// the caller's bytes into this buffer, and the buffer is written with one pwrite. Reuse one
/// buffer across appends (`removeAll()` keeps its memory) so the hot path allocates nothing.
///
/// The log fills in base offsets and checksums when it appends, so the same buffer shape serves
/// a leader (offsets assigned at append) and a follower (offsets checked against the log end).
public final class RecordBatchBuffer {
    var storage: UnsafeMutableRawPointer
    var capacity: Int
    /// Bytes of complete and open batches.
    public private(set) var byteCount = 0
    /// Start of each complete batch, in order.
    var batchStarts: [Int] = []
    var openBatchStart: Int?
    var openRecordCount: UInt32 = 0
    var openMaxTimestampMilliseconds: Int64 = 0

    /// Creates a buffer with room for `capacityBytes` before it first grows.
    public init(capacityBytes: Int = 1 << 20) {
        capacity = max(capacityBytes, BatchHeader.size)
        storage = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        batchStarts.reserveCapacity(64)
    }

    deinit { storage.deallocate() }

    /// Complete batches in the buffer.
    public var batchCount: Int { batchStarts.count }

    /// The buffer's bytes (complete batches plus any open one).
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: storage, count: byteCount) }

    /// Forgets every batch, keeping the memory.
    public func removeAll() {
        byteCount = 0
        batchStarts.removeAll(keepingCapacity: true)
        openBatchStart = nil
    }

    /// Starts a batch; every record appended until `endBatch()` shares these fields.
    public func beginBatch(
        term: Term, attributes: UInt16 = 0, timestampMilliseconds: Int64,
        producerID: UInt64 = 0, sequence: UInt64 = 0
    ) {
        precondition(openBatchStart == nil, "beginBatch inside an open batch")
        reserve(BatchHeader.size)
        let start = byteCount
        let header = UnsafeMutableRawBufferPointer(start: storage + start, count: BatchHeader.size)
        header.initializeMemory(as: UInt8.self, repeating: 0)
        header[8] = BatchHeader.currentMagic
        header.storeBytes(of: attributes.littleEndian, toByteOffset: 10, as: UInt16.self)
        header.storeBytes(of: term.rawValue.littleEndian, toByteOffset: 24, as: UInt64.self)
        header.storeBytes(of: timestampMilliseconds.littleEndian, toByteOffset: 32, as: Int64.self)
        header.storeBytes(of: producerID.littleEndian, toByteOffset: 48, as: UInt64.self)
        header.storeBytes(of: sequence.littleEndian, toByteOffset: 56, as: UInt64.self)
        byteCount += BatchHeader.size
        openBatchStart = start
        openRecordCount = 0
        openMaxTimestampMilliseconds = timestampMilliseconds
    }

    /// Raises the open batch's max timestamp (for records stamped later than the first).
    public func noteTimestamp(milliseconds: Int64) {
        precondition(openBatchStart != nil, "noteTimestamp outside a batch")
        openMaxTimestampMilliseconds = max(openMaxTimestampMilliseconds, milliseconds)
    }

    /// Appends one opaque record to the open batch.
    public func appendRecord(_ record: UnsafeRawBufferPointer) {
        appendRecord(byteCount: record.count) { target in
            if record.count > 0 { target.copyMemory(from: record) }
        }
    }

    /// Appends one opaque record to the open batch.
    public func appendRecord(_ record: [UInt8]) {
        record.withUnsafeBytes { appendRecord($0) }
    }

    /// Appends a record of `byteCount` bytes that `fill` writes in place: no intermediate copy.
    public func appendRecord(byteCount recordBytes: Int, _ fill: (UnsafeMutableRawBufferPointer) -> Void) {
        precondition(openBatchStart != nil, "appendRecord outside a batch")
        precondition(recordBytes >= 0, "negative record size")
        reserve(10 + recordBytes)
        var length = UInt64(recordBytes)
        while length >= 0x80 {
            storage.storeBytes(of: UInt8(truncatingIfNeeded: length) | 0x80, toByteOffset: byteCount, as: UInt8.self)
            byteCount += 1
            length >>= 7
        }
        storage.storeBytes(of: UInt8(length), toByteOffset: byteCount, as: UInt8.self)
        byteCount += 1
        fill(UnsafeMutableRawBufferPointer(start: storage + byteCount, count: recordBytes))
        byteCount += recordBytes
        openRecordCount += 1
    }

    /// Closes the open batch. A batch needs at least one record.
    public func endBatch() {
        guard let start = openBatchStart else { preconditionFailure("endBatch without beginBatch") }
        precondition(openRecordCount > 0, "a batch needs at least one record")
        precondition(byteCount - start <= Int(UInt32.max), "batch larger than 4 GiB")
        let header = UnsafeMutableRawBufferPointer(start: storage + start, count: BatchHeader.size)
        header.storeBytes(of: UInt32(byteCount - start).littleEndian, toByteOffset: 0, as: UInt32.self)
        header.storeBytes(of: openRecordCount.littleEndian, toByteOffset: 12, as: UInt32.self)
        header.storeBytes(of: openMaxTimestampMilliseconds.littleEndian, toByteOffset: 40, as: Int64.self)
        batchStarts.append(start)
        openBatchStart = nil
    }

    /// The bytes of complete batch `index`.
    func batch(_ index: Int) -> UnsafeMutableRawBufferPointer {
        let start = batchStarts[index]
        let end = index + 1 < batchStarts.count ? batchStarts[index + 1] : (openBatchStart ?? byteCount)
        return UnsafeMutableRawBufferPointer(start: storage + start, count: end - start)
    }

    func reserve(_ additional: Int) {
        let needed = byteCount + additional
        if needed <= capacity { return }
        var newCapacity = capacity
        while newCapacity < needed { newCapacity *= 2 }
        let grown = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        grown.copyMemory(from: storage, byteCount: byteCount)
        storage.deallocate()
        storage = grown
        capacity = newCapacity
    }
}
