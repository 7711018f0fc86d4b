import MOMCore
import SystemIO

extension SegmentLog {
    /// Checks the whole log against its invariants, reading every byte: every batch valid,
    /// offsets contiguous across segments, every index entry pointing at the start of the batch
    /// with its offset, and the on-disk index a prefix of the in-memory one. An fsck for
    /// operators and the checker of the crash tests; it throws on the first problem.
    public func verify() throws(SegmentLogError) {
        var expected = logStartOffset
        for segment in segments {
            guard segment.baseOffset == expected else {
                throw .corruptFile(path: segment.logPath, reason: "segment starts at \(segment.baseOffset), expected \(expected)")
            }
            var batchStarts: [UInt64: Offset] = [:]
            let scanner = BatchScanner(file: segment.file, path: segment.logPath, end: segment.size, chunkBytes: 1 << 20, limits: limits)
            let limits = self.limits
            var problem: SegmentLogError?
            let stop = try scanner.scan(from: 0) { (position, raw) throws(SegmentLogError) -> Bool in
                do throws(BatchError) {
                    try BatchRecords.validate(raw, limits: limits)
                } catch {
                    problem = .corruptBatch(path: segment.logPath, position: position, error)
                    return false
                }
                let header = BatchHeader(decoding: raw)
                if header.baseOffset != expected {
                    problem = .corruptBatch(path: segment.logPath, position: position, .unexpectedOffset(expected: expected, found: header.baseOffset))
                    return false
                }
                batchStarts[position] = header.baseOffset
                expected = header.nextOffset
                return true
            }
            if let problem { throw problem }
            guard stop == .end, expected == segment.nextOffset else {
                throw .corruptFile(path: segment.logPath, reason: "log ends at \(expected), expected \(segment.nextOffset)")
            }
            try verifyIndex(segment, batchStarts: batchStarts)
        }
    }

    func verifyIndex(_ segment: Segment, batchStarts: [UInt64: Offset]) throws(SegmentLogError) {
        for entry in segment.index.entries {
            let offset = segment.baseOffset.advanced(by: UInt64(entry.relativeOffset))
            guard batchStarts[UInt64(entry.position)] == offset else {
                throw .corruptFile(path: segment.indexPath, reason: "entry \(offset) → \(entry.position) is not a batch start")
            }
        }
        let onDisk: [UInt8]
        do {
            let size = try segment.indexFile.size()
            onDisk = try segment.indexFile.readBytes(fromAbsoluteOffset: 0, count: Int(size))
        } catch {
            throw .io(error, path: segment.indexPath)
        }
        let expected = segment.index.encode(0..<segment.indexEntriesOnDisk)
        guard onDisk == expected else {
            throw .corruptFile(path: segment.indexPath, reason: "on-disk index differs from the in-memory index")
        }
    }
}
