import MOMCore
import SystemIO

extension SegmentLog {
    /// Deletes every segment whose records all lie below `offset` (the active segment stays).
    /// The log start moves to the first kept segment's base, so it may stay below `offset`.
    /// Returns how many segments were deleted.
    @discardableResult
    public func deletePrefix(before offset: Offset) throws(SegmentLogError) -> Int {
        try checkUsable()
        var count = 0
        while count < segments.count - 1 && segments[count].nextOffset <= offset { count += 1 }
        try removeOldestSegments(count)
        return count
    }

    /// Retention (Kafka's retention.bytes and retention.ms): deletes the oldest segments while
    /// the log is larger than `bytesMax` or while a segment's newest record is older than
    /// `ageMillisecondsMax` by the injected clock. Returns how many segments were deleted.
    @discardableResult
    public func applyRetention(bytesMax: UInt64?, ageMillisecondsMax: UInt64?) throws(SegmentLogError) -> Int {
        try checkUsable()
        let now = configuration.clock.wallMilliseconds()
        var total = sizeBytes
        var count = 0
        while count < segments.count - 1 {
            let segment = segments[count]
            let overSize = bytesMax.map { total > $0 } ?? false
            var tooOld = false
            if let ageMillisecondsMax, segment.maxTimestampMilliseconds != .min {
                let age = now - segment.maxTimestampMilliseconds
                tooOld = age > 0 && UInt64(age) > ageMillisecondsMax
            }
            if !overSize && !tooOld { break }
            total -= segment.size
            count += 1
        }
        try removeOldestSegments(count)
        return count
    }

    /// Renames the oldest `count` segments to `.deleted` (oldest first, so a crash leaves a
    /// contiguous suffix), makes that durable, then unlinks them.
    func removeOldestSegments(_ count: Int) throws(SegmentLogError) {
        guard count > 0 else { return }
        precondition(count < segments.count, "retention never deletes the active segment")
        let doomed = Array(segments[0..<count])
        do {
            for segment in doomed {
                try rename(segment.logPath, to: segment.logPath + SegmentFileNames.deletedSuffix)
                try rename(segment.indexPath, to: segment.indexPath + SegmentFileNames.deletedSuffix)
            }
            segments.removeFirst(count)
            try syncDirectory()
            for segment in doomed {
                segment.closeFiles()
                try removeFile(segment.logPath + SegmentFileNames.deletedSuffix)
                try removeFile(segment.indexPath + SegmentFileNames.deletedSuffix)
            }
        } catch {
            throw fail(error)
        }
    }

    func rename(_ source: String, to destination: String) throws(SegmentLogError) {
        do { try fileSystem.rename(source, to: destination) } catch { throw .io(error, path: source) }
    }
}
