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
                tooOld = SegmentLog.milliseconds(from: segment.maxTimestampMilliseconds, to: now) > ageMillisecondsMax
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

extension SegmentLog {
    /// Empties the log and restarts it at `offset` (a follower installing a Raft snapshot:
    /// the next entry after the snapshot gets `offset`). Durable when it returns.
    ///
    /// Every old segment is renamed to `.deleted` before the new one is created, and the
    /// directory is synced once for both, so a crash leaves the old log (or a suffix of it), or
    /// the new empty log, or — when only the renames reached the disk — an empty directory that
    /// reopens at `Configuration.initialOffset`. Callers therefore reopen with the snapshot's
    /// next offset as `initialOffset` and repeat the reset if the log does not start there.
    public func reset(startingAt offset: Offset) throws(SegmentLogError) {
        try checkUsable()
        rewrites += 1
        let doomed = segments
        do {
            for segment in doomed {
                try rename(segment.logPath, to: segment.logPath + SegmentFileNames.deletedSuffix)
                try rename(segment.indexPath, to: segment.indexPath + SegmentFileNames.deletedSuffix)
            }
            segments = [try createSegment(base: offset)]
            try syncDirectory()
            for segment in doomed {
                segment.closeFiles()
                try removeFile(segment.logPath + SegmentFileNames.deletedSuffix)
                try removeFile(segment.indexPath + SegmentFileNames.deletedSuffix)
            }
        } catch {
            throw fail(error)
        }
        durableEndOffset = offset
    }
}
