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

    /// Reads and validates whole batches from the one holding `offset`, within one segment,
    /// with one pread for the whole range when the batches fit `maxBytes`.
    func readWholeBatches(from offset: Offset, maxBytes: Int) throws(SegmentLogError) -> ([UInt8], [Int]) {
        let segment = segments[segmentIndex(containing: offset)]
        let (start, _) = try locateBatch(offset, in: segment)
        let budget = min(maxBytes, limits.readBytesMax)
        let scanner = BatchScanner(file: segment.file, path: segment.logPath, end: segment.size, chunkBytes: budget, limits: limits)
        var bytes: [UInt8] = []
        var positions: [Int] = []
        var validation: SegmentLogError?
        let limits = self.limits
        _ = try scanner.scan(from: start) { (position, raw) throws(SegmentLogError) -> Bool in
            if !bytes.isEmpty && bytes.count + raw.count > budget { return false }
            do throws(BatchError) {
                try BatchRecords.validate(raw, limits: limits)
            } catch {
                validation = .corruptBatch(path: segment.logPath, position: position, error)
                return false
            }
            if bytes.isEmpty { bytes.reserveCapacity(max(budget, raw.count)) }
            positions.append(bytes.count)
            bytes.append(contentsOf: raw)
            return true
        }
        if let validation { throw validation }
        guard !positions.isEmpty else {
            throw .corruptFile(path: segment.logPath, reason: "no batch at offset \(offset)")
        }
        return (bytes, positions)
    }
}
