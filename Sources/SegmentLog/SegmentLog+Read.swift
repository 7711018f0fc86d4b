import MOMCore
import SystemIO

extension SegmentLog {
    /// Reads records from `offset` on: at most `maxRecords`, and whole batches up to `maxBytes`
    /// (always at least one batch, so a big batch cannot stall a reader). Reads stop at the end
    /// of a segment; read again from `nextOffset`. Every batch's checksum is checked.
    public func read(from offset: Offset, maxBytes: Int, maxRecords: Int) throws(SegmentLogError) -> LogRecords {
        precondition(maxBytes > 0 && maxRecords > 0, "read needs positive bounds")
        try checkRange(offset, allowEnd: true)
        if offset == logEndOffset { return LogRecords(bytes: [], headers: [], locations: [], nextOffset: offset) }
        let (bytes, positions) = try readWholeBatches(from: offset, maxBytes: maxBytes)
        var headers: [BatchHeader] = []
        var locations: [LogRecords.Location] = []
        headers.reserveCapacity(positions.count)
        let recordsRead = bytes.withUnsafeBytes { raw in
            positions.reduce(0) { $0 + Int(BatchHeader(decoding: UnsafeRawBufferPointer(rebasing: raw[$1...])).recordCount) }
        }
        locations.reserveCapacity(min(maxRecords, recordsRead))
        bytes.withUnsafeBytes { raw in
            outer: for (batchNumber, start) in positions.enumerated() {
                let header = BatchHeader(decoding: UnsafeRawBufferPointer(rebasing: raw[start...]))
                headers.append(header)
                let batch = UnsafeRawBufferPointer(rebasing: raw[start..<(start + Int(header.length))])
                // The records were validated when the batch was read, so this cannot fail.
                try? BatchRecords.forEach(in: batch, count: header.recordCount) { index, range in
                    let recordOffset = header.baseOffset.advanced(by: UInt64(index))
                    guard recordOffset >= offset, locations.count < maxRecords else { return }
                    locations.append(.init(
                        offset: recordOffset, batch: Int32(batchNumber), start: Int32(start + range.lowerBound),
                        count: Int32(range.count)))
                }
                if locations.count >= maxRecords { break outer }
            }
        }
        let next = locations.last.map { $0.offset.next } ?? offset
        return LogRecords(bytes: bytes, headers: headers, locations: locations, nextOffset: next)
    }

    /// Whole batches from the one holding `offset`, up to `maxBytes` (at least one batch), as
    /// stored: what a follower appends with `appendEncoded` or a fetch sends as is.
    public func readEncodedBatches(from offset: Offset, maxBytes: Int) throws(SegmentLogError) -> EncodedBatches {
        precondition(maxBytes > 0, "read needs a positive byte bound")
        try checkRange(offset, allowEnd: true)
        if offset == logEndOffset { return EncodedBatches(bytes: [], firstOffset: offset, nextOffset: offset) }
        let (bytes, positions) = try readWholeBatches(from: offset, maxBytes: maxBytes)
        let (first, next) = bytes.withUnsafeBytes { raw in
            (BatchHeader(decoding: raw).baseOffset,
             BatchHeader(decoding: UnsafeRawBufferPointer(rebasing: raw[positions[positions.count - 1]...])).nextOffset)
        }
        return EncodedBatches(bytes: bytes, firstOffset: first, nextOffset: next)
    }

    /// Reads and validates whole batches from the one holding `offset`, within one segment:
    /// one pread straight into the result buffer (a second one only when the first batch alone
    /// is larger than `maxBytes`), no intermediate copy.
    func readWholeBatches(from offset: Offset, maxBytes: Int) throws(SegmentLogError) -> ([UInt8], [Int]) {
        let segment = segments[segmentIndex(containing: offset)]
        let (start, header) = try locateBatch(offset, in: segment)
        let available = Int(segment.size - start)
        let budget = min(max(min(maxBytes, limits.readBytesMax), Int(header.length)), available)
        var bytes: [UInt8]
        do {
            bytes = try segment.file.readBytes(fromAbsoluteOffset: start, count: budget)
        } catch {
            throw .io(error, path: segment.logPath)
        }
        var positions: [Int] = []
        var position = 0
        let limits = self.limits
        let problem: (Int, BatchError)? = bytes.withUnsafeBytes { raw in
            // Bounded: each step consumes a batch of at least 64 bytes.
            while raw.count - position >= BatchHeader.size {
                let length = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: position, as: UInt32.self)))
                guard length >= BatchHeader.size, length <= limits.batchBytesMax + BatchHeader.size else {
                    return (position, .badLength(UInt32(truncatingIfNeeded: length)))
                }
                if length > raw.count - position { break }
                do throws(BatchError) {
                    try BatchRecords.validate(UnsafeRawBufferPointer(rebasing: raw[position..<(position + length)]), limits: limits)
                } catch {
                    return (position, error)
                }
                positions.append(position)
                position += length
            }
            return nil
        }
        if let (at, reason) = problem {
            throw .corruptBatch(path: segment.logPath, position: start + UInt64(at), reason)
        }
        guard !positions.isEmpty else {
            throw .corruptFile(path: segment.logPath, reason: "no whole batch at byte \(start) for offset \(offset)")
        }
        if position < bytes.count { bytes.removeSubrange(position...) }
        return (bytes, positions)
    }
}
