import MOMCore
import SystemIO

/// A partition's log on disk (DESIGN.md §3), Kafka-like: a directory of segments, each a `.log`
/// of checksummed record batches plus a sparse `.index`. Records are opaque bytes; the upper
/// layers (Raft storage, broker) give them meaning, and one Raft entry is one record.
///
/// Durability is explicit: `append` writes (page cache), `flush` fdatasyncs and returns the
/// durable end, so one flush covers many appends (group commit). Every other on-disk change
/// (roll, truncation, retention) is crash-safe and durable when it returns. A write or sync
/// failure leaves the log failed until it is reopened, and reopening runs recovery.
///
/// Not thread-safe: one owner (the replication loop) drives it, like etcd's storage.
public final class SegmentLog {
    /// Settings of one log.
    public struct Configuration {
        /// Bounds: segment size and age, index interval, batch and read sizes.
        public var limits: Limits
        /// Time for age-based rolling and retention.
        public var clock: any Clock
        /// Offset of the first record when the directory is new.
        public var initialOffset: Offset
        /// How far ahead of its end the active segment file is filled with zeros, at most
        /// (0: never). Appends then overwrite blocks that already exist in a file whose size
        /// does not change, so an fdatasync writes the data alone, without the file's metadata:
        /// on this project's ext4 disk that is 83 µs against 145 µs per sync
        /// (docs/performance.md §16). The first sync after a fill writes the zeros too, and the
        /// metadata of their newly allocated blocks: a 4 MiB fill made that one sync 2.5-25 ms
        /// on this disk and stalled every commit behind it; a 1 MiB fill keeps it near 1-2 ms
        /// for the same mean sync time (docs/performance.md §26).
        public var prefillBytesMax: UInt64
        /// How much durable data behind the active segment's durable end stays in the page
        /// cache, at least (nil, the default: all of it, until the kernel reclaims it). Older
        /// pages are freed as the log grows, in steps of `SegmentLog.cacheReleaseStep`, and the
        /// kernel hands them straight back to the next writes: in this project's VMs a page
        /// never used before costs about ten times the write itself (docs/performance.md §19).
        /// A consumer reading further back than this reads from the disk.
        public var cachedTailBytes: UInt64?
        /// A log opened on an empty directory creates its first segment without syncing the
        /// directory: the owner makes the new log durable later, together with other new logs
        /// (one whole-file-system sync for a thousand new partitions instead of a directory
        /// fsync each), and relies on it only after that (`creationIsUnsynced`). Off: the
        /// creation is durable when `open` returns.
        public var defersCreationSync: Bool

        public init(
            limits: Limits = .standard, clock: any Clock, initialOffset: Offset = .zero, prefillBytesMax: UInt64 = 1 << 20,
            cachedTailBytes: UInt64? = SegmentLog.defaultCachedTailBytes, defersCreationSync: Bool = false
        ) {
            self.limits = limits
            self.clock = clock
            self.initialOffset = initialOffset
            self.prefillBytesMax = prefillBytesMax
            self.cachedTailBytes = cachedTailBytes
            self.defersCreationSync = defersCreationSync
        }
    }

    /// The log's directory.
    public let directory: String
    let fileSystem: any FileSystem
    let configuration: Configuration
    var limits: Limits { configuration.limits }
    /// Segments in offset order; never empty, the last is the active one.
    var segments: [Segment] = []
    var failure: Errno?
    /// Test-only: recovery skips checksums, to show the crash checker catches a broken recovery.
    var recoveryVerifiesChecksums: Bool

    /// One past the last record: the offset the next append gets.
    public var logEndOffset: Offset { segments[segments.count - 1].nextOffset }
    /// The first record still in the log.
    public var logStartOffset: Offset { segments[0].baseOffset }
    /// Every record below this offset survives a crash.
    public internal(set) var durableEndOffset: Offset = .zero
    /// Counts truncations and resets: a `SyncPoint` taken before one no longer describes the log.
    var rewrites: UInt64 = 0
    /// The log was created by `open` with `defersCreationSync` and its directory entries are
    /// not durable yet: a crash may take the new segment's files (recovery then makes them
    /// again). Cleared by `syncCreation` or `markCreationDurable`.
    public internal(set) var creationIsUnsynced = false
    /// The term of the last record, or nil when the log is empty.
    public var lastTerm: Term? { segments.last(where: { !$0.isEmpty })?.lastBatch?.term }
    /// Bytes of every segment file.
    public var sizeBytes: UInt64 { segments.reduce(0) { $0 + $1.size } }
    /// How many segments the log has.
    public var segmentCount: Int { segments.count }

    /// Opens (creating if needed) the log in `directory` and recovers it: finishes or discards
    /// interrupted renames and truncations, drops a torn or corrupt tail, rebuilds bad indexes.
    public static func open(
        directory: String, fileSystem: any FileSystem, configuration: Configuration
    ) throws(SegmentLogError) -> SegmentLog {
        let log = SegmentLog(directory: directory, fileSystem: fileSystem, configuration: configuration, verifyChecksums: true)
        try log.recover()
        return log
    }

    init(directory: String, fileSystem: any FileSystem, configuration: Configuration, verifyChecksums: Bool) {
        precondition(configuration.limits.segmentBytesMax <= UInt64(UInt32.max), "index positions are 32-bit")
        precondition(configuration.limits.indexIntervalBytes > 0, "index interval must be positive")
        self.directory = directory
        self.fileSystem = fileSystem
        self.configuration = configuration
        self.recoveryVerifiesChecksums = verifyChecksums
    }

    deinit { for segment in segments { segment.closeFiles() } }

    /// Closes every file. The log is unusable afterwards.
    public func close() {
        for segment in segments { segment.closeFiles() }
        segments.removeAll()
    }

    /// Throws if an earlier write or sync failed.
    func checkUsable() throws(SegmentLogError) {
        if let failure { throw .failed(failure) }
    }

    /// Marks the log failed for an I/O error from a mutation and rethrows it.
    func fail(_ error: SegmentLogError) -> SegmentLogError {
        if case .io(let errno, _) = error, failure == nil { failure = errno }
        return error
    }

    // MARK: Durability

    /// Makes every appended record durable (fdatasync) and returns the durable end offset.
    /// Earlier segments were synced when they rolled, so this syncs only the active segment.
    @discardableResult
    public func flush() throws(SegmentLogError) -> Offset {
        try checkUsable()
        // A new log's files are worth nothing after a crash until their names are durable too.
        do { try syncCreation() } catch { throw fail(error) }
        do { try segments[segments.count - 1].syncData() } catch { throw fail(error) }
        durableEndOffset = logEndOffset
        releaseCachedPages(segments[segments.count - 1])
        return durableEndOffset
    }

    /// Like `flush`, for a caller that has just synced the whole file system holding this log
    /// (syncfs) after its last append: records every appended record as durable without an
    /// fdatasync of its own. Group commit across many logs uses it (one sync for all of them).
    @discardableResult
    public func markFlushedByFileSystemSync() throws(SegmentLogError) -> Offset {
        try checkUsable()
        do { try segments[segments.count - 1].markSynced() } catch { throw fail(error) }
        markCreationDurable()
        durableEndOffset = logEndOffset
        releaseCachedPages(segments[segments.count - 1])
        return durableEndOffset
    }

    /// Where the log ends now, for a whole-file-system sync started after this call: once that
    /// sync finishes, `markFlushedByFileSystemSync(through:)` records the log durable up to here
    /// while later appends stay pending (asynchronous storage writes).
    public struct SyncPoint: Sendable, Equatable {
        public let end: Offset
        let segmentBase: Offset
        let size: UInt64
        let rewrites: UInt64
    }

    public var syncPoint: SyncPoint {
        let active = segments[segments.count - 1]
        return SyncPoint(end: logEndOffset, segmentBase: active.baseOffset, size: active.size, rewrites: rewrites)
    }

    /// A descriptor of the active segment's own, to fdatasync it from another thread after a
    /// sync point (nil when the file system cannot give one). A roll after this call syncs the
    /// sealed segment itself, so this handle still covers everything up to the point.
    /// A new log whose creation is not durable gets none: an fdatasync of the file would not
    /// make its name durable, a whole-file-system sync does.
    public func activeSyncHandle() throws(SegmentLogError) -> (any FileSyncHandle)? {
        guard !creationIsUnsynced else { return nil }
        let active = segments[segments.count - 1]
        do { return try active.file.syncHandle() } catch { throw .io(error, path: active.logPath) }
    }

    /// Records every record below `point.end` as durable, after a whole-file-system sync that
    /// started after `point` was taken has finished. Returns false, changing nothing, when the
    /// log was truncated or reset since (those records may no longer be the ones synced). A roll
    /// since then synced the sealed segment itself, so the point is already covered.
    @discardableResult
    public func markFlushedByFileSystemSync(through point: SyncPoint) throws(SegmentLogError) -> Bool {
        try checkUsable()
        guard point.rewrites == rewrites, point.end <= logEndOffset else { return false }
        guard point.end > durableEndOffset else { return true }
        let active = segments[segments.count - 1]
        precondition(active.baseOffset == point.segmentBase && point.size <= active.size,
                     "a sync point beyond the durable end lies outside the active segment")
        do { try active.markSynced(upToSize: point.size) } catch { throw fail(error) }
        durableEndOffset = point.end
        releaseCachedPages(active)
        return true
    }

    // MARK: Lookup

    /// The segment holding `offset` (binary search over base offsets).
    func segmentIndex(containing offset: Offset) -> Int {
        var low = 0
        var high = segments.count
        while low < high {
            let middle = (low + high) / 2
            if segments[middle].baseOffset <= offset { low = middle + 1 } else { high = middle }
        }
        return max(low - 1, 0)
    }

    func checkRange(_ offset: Offset, allowEnd: Bool) throws(SegmentLogError) {
        let inRange = offset >= logStartOffset && (offset < logEndOffset || (allowEnd && offset == logEndOffset))
        if !inRange { throw .offsetOutOfRange(requested: offset, logStart: logStartOffset, logEnd: logEndOffset) }
    }

    /// The position and header of the batch holding `offset` inside `segment`. An index entry
    /// that does not point at the batch it names (bit rot) gets the index rebuilt, then a retry.
    func locateBatch(_ offset: Offset, in segment: Segment, indexRebuilt: Bool = false) throws(SegmentLogError) -> (UInt64, BatchHeader) {
        if let last = segment.lastBatch, last.baseOffset <= offset, offset < last.nextOffset {
            return (segment.size - UInt64(last.length), last)
        }
        var found: (UInt64, BatchHeader)?
        var scanner = BatchScanner(
            file: segment.file, path: segment.logPath, end: segment.size, chunkBytes: 4096, limits: limits)
        scanner.wholeBatches = false
        let (start, startOffset) = segment.scanStart(for: offset)
        var indexIsWrong = false
        let stop = try scanner.scan(from: start) { (position, raw) throws(SegmentLogError) -> Bool in
            let header = BatchHeader(decoding: raw)
            if position == start && header.baseOffset != startOffset {
                indexIsWrong = true
                return false
            }
            if header.nextOffset <= offset { return true }
            found = (position, header)
            return false
        }
        if stop == .invalid(position: start) && start > 0 { indexIsWrong = true }
        if indexIsWrong && !indexRebuilt {
            try rebuildIndex(segment)
            return try locateBatch(offset, in: segment, indexRebuilt: true)
        }
        guard let found, found.1.baseOffset <= offset else {
            throw .corruptFile(path: segment.logPath, reason: "no batch holds offset \(offset)")
        }
        return found
    }

    /// Rebuilds a segment's index from a full scan of its log, and rewrites the index file.
    func rebuildIndex(_ segment: Segment) throws(SegmentLogError) {
        var rebuilt = OffsetIndex()
        var bytesSinceEntry: UInt64 = 0
        var expected = segment.baseOffset
        let limits = self.limits
        let scanner = BatchScanner(file: segment.file, path: segment.logPath, end: segment.size, chunkBytes: 1 << 20, limits: limits)
        let stop = try scanner.scan(from: 0) { (position, raw) throws(SegmentLogError) -> Bool in
            do throws(BatchError) { try BatchRecords.validate(raw, limits: limits) } catch { return false }
            let header = BatchHeader(decoding: raw)
            guard header.baseOffset == expected else { return false }
            Segment.indexBatch(header, at: position, base: segment.baseOffset, interval: limits.indexIntervalBytes,
                               index: &rebuilt, bytesSinceEntry: &bytesSinceEntry)
            expected = header.nextOffset
            return true
        }
        guard stop == .end, expected == segment.nextOffset else {
            throw .corruptFile(path: segment.logPath, reason: "cannot rebuild the index: the log itself is damaged")
        }
        segment.index = rebuilt
        segment.bytesSinceIndexEntry = bytesSinceEntry
        do throws(SegmentLogError) {
            do { try segment.indexFile.truncate(toSize: 0) } catch { throw .io(error, path: segment.indexPath) }
            segment.indexEntriesOnDisk = 0
            try segment.writePendingIndexEntries()
        } catch {
            throw fail(error)
        }
    }

    /// The Raft term of the record at `offset`.
    public func term(at offset: Offset) throws(SegmentLogError) -> Term {
        try checkRange(offset, allowEnd: false)
        let segment = segments[segmentIndex(containing: offset)]
        return try locateBatch(offset, in: segment).1.term
    }
}
