import MOMCore
import SystemIO

extension SegmentLog {
    /// Removes every record at or after `offset` (a Raft conflict). Durable when it returns.
    ///
    /// Whole segments go first, newest first, so a crash leaves a contiguous prefix. A cut
    /// inside a batch rewrites that batch shorter; because a torn rewrite would destroy records
    /// before `offset` that may be committed, the shortened batch is first saved in a redo
    /// record (`<base>.swap`, via AtomicFile) that recovery replays.
    public func truncate(from offset: Offset) throws(SegmentLogError) {
        try checkUsable()
        guard offset < logEndOffset else {
            if offset == logEndOffset { return }
            throw .offsetOutOfRange(requested: offset, logStart: logStartOffset, logEnd: logEndOffset)
        }
        try checkRange(offset, allowEnd: false)
        rewrites += 1
        do {
            try segments[segments.count - 1].syncData()
            var removedSegment = false
            while segments.count > 1, segments[segments.count - 1].baseOffset >= offset {
                let segment = segments.removeLast()
                segment.closeFiles()
                try removeFile(segment.logPath)
                try removeFile(segment.indexPath)
                removedSegment = true
            }
            if removedSegment { try syncDirectory() }
            try cutActiveSegment(at: offset)
        } catch {
            throw fail(error)
        }
        durableEndOffset = logEndOffset
    }

    func cutActiveSegment(at offset: Offset) throws(SegmentLogError) {
        let segment = segments[segments.count - 1]
        if offset == segment.baseOffset {
            try cut(segment, at: 0, replacement: nil, newEnd: offset)
            return
        }
        let (position, header) = try locateBatch(offset, in: segment)
        if header.baseOffset == offset {
            try cut(segment, at: position, replacement: nil, newEnd: offset)
            return
        }
        let replacement = try shortenedBatch(segment, at: position, header: header, keeping: offset)
        let swapPath = SegmentFileNames.swap(directory, segment.baseOffset)
        var record: [UInt8] = []
        withUnsafeBytes(of: position.littleEndian) { record.append(contentsOf: $0) }
        record.append(contentsOf: replacement)
        try AtomicFile.write(record, to: swapPath, fileSystem: fileSystem)
        try cut(segment, at: position, replacement: replacement, newEnd: offset)
        try removeFile(swapPath)
        try syncDirectory()
    }

    /// The batch at `position` re-encoded with only its records before `offset`.
    func shortenedBatch(_ segment: Segment, at position: UInt64, header: BatchHeader, keeping offset: Offset) throws(SegmentLogError) -> [UInt8] {
        var bytes: [UInt8]
        do {
            bytes = try segment.file.readBytes(fromAbsoluteOffset: position, count: Int(header.length))
        } catch {
            throw .io(error, path: segment.logPath)
        }
        let kept = UInt32(offset.rawValue - header.baseOffset.rawValue)
        var end = 0
        let limits = self.limits
        let problem: BatchError? = bytes.withUnsafeBytes { raw in
            do throws(BatchError) {
                try BatchRecords.validate(raw, limits: limits)
                try BatchRecords.forEach(in: raw, count: header.recordCount) { index, range in
                    if index == Int(kept) - 1 { end = range.upperBound }
                }
                return nil
            } catch {
                return error
            }
        }
        if let problem { throw .corruptBatch(path: segment.logPath, position: position, problem) }
        bytes.removeSubrange(end...)
        bytes.withUnsafeMutableBytes { raw in
            raw.storeBytes(of: UInt32(end).littleEndian, toByteOffset: 0, as: UInt32.self)
            raw.storeBytes(of: kept.littleEndian, toByteOffset: 12, as: UInt32.self)
            BatchHeader.sealChecksum(raw)
        }
        return bytes
    }

    /// Cuts the segment file at `position`, optionally writing a replacement batch there, and
    /// syncs. Index entries past the cut are removed durably before the data changes.
    func cut(_ segment: Segment, at position: UInt64, replacement: [UInt8]?, newEnd: Offset) throws(SegmentLogError) {
        try segment.dropIndexEntries(fromPosition: replacement == nil ? position : position + 1)
        do {
            try segment.file.truncate(toSize: position)
            if let replacement { try segment.file.write(toAbsoluteOffset: position, replacement) }
            try segment.file.dataSync()
        } catch {
            throw .io(error, path: segment.logPath)
        }
        segment.size = position + UInt64(replacement?.count ?? 0)
        segment.durableSize = segment.size
        segment.filledSize = 0
        segment.releasedSize = min(segment.releasedSize, segment.size) & ~(SegmentLog.pageBytes - 1)
        segment.nextOffset = newEnd
        segment.lastBatch = nil
        segment.bytesSinceIndexEntry = segment.size - UInt64(segment.index.last?.position ?? 0)
        if segment.isEmpty {
            segment.firstTimestampMilliseconds = nil
            segment.maxTimestampMilliseconds = .min
        } else {
            segment.lastBatch = try locateBatch(newEnd.previousOffset, in: segment).1
        }
    }

    /// Replays a partial truncation interrupted by a crash (see `truncate(from:)`).
    func redoPartialTruncation(base: Offset) throws(SegmentLogError) {
        let swapPath = SegmentFileNames.swap(directory, base)
        let logPath = SegmentFileNames.log(directory, base)
        guard let record = try AtomicFile.read(swapPath, fileSystem: fileSystem), record.count > 8 + BatchHeader.size,
              fileSystem.exists(logPath)
        else {
            try removeFile(swapPath)
            return
        }
        let position = record.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: 0, as: UInt64.self)) }
        let replacement = Array(record[8...])
        do {
            let file = try fileSystem.openFile(logPath)
            defer { try? file.close() }
            try file.truncate(toSize: position)
            try file.write(toAbsoluteOffset: position, replacement)
            try file.dataSync()
        } catch {
            throw .io(error, path: logPath)
        }
        // The index is rebuilt from the log rather than trusted across an interrupted cut.
        let indexPath = SegmentFileNames.index(directory, base)
        if fileSystem.exists(indexPath) { try removeFile(indexPath) }
        try removeFile(swapPath)
        try syncDirectory()
    }
}

extension Offset {
    /// The offset before this one; callers ensure it is not zero.
    var previousOffset: Offset {
        precondition(rawValue > 0, "offset 0 has no predecessor")
        return Offset(rawValue - 1)
    }
}
