import MOMCore
import SystemIO

/// One segment: a `.log` file of record batches and its sparse `.index`.
/// Invariants: `size` is the byte length of whole valid batches; `durableSize <= size` is what
/// fdatasync has covered; every index entry written to disk points into durable data, so
/// recovery may trust the index up to its last entry that still checks out; the file is
/// `max(size, filledSize)` bytes long and every byte past `size` is a zero this log wrote
/// (prefill), never an older batch: a cut truncates the file, it never leaves stale bytes.
final class Segment {
    let baseOffset: Offset
    let logPath: String
    let indexPath: String
    let file: any StorageFile
    let indexFile: any StorageFile
    var size: UInt64 = 0
    var durableSize: UInt64 = 0
    /// The file's length when it was filled with zeros ahead of `size` (0: not filled).
    var filledSize: UInt64 = 0
    /// Cleared when a fill failed (a full disk): the segment goes on without prefill.
    var prefills = true
    /// The file's cached pages below this were freed (`SegmentLog.releaseCachedPages`).
    var releasedSize: UInt64 = 0
    var nextOffset: Offset
    var index = OffsetIndex()
    var indexEntriesOnDisk = 0
    var bytesSinceIndexEntry: UInt64 = 0
    var firstTimestampMilliseconds: Int64?
    var maxTimestampMilliseconds: Int64 = .min
    /// The header of the last batch, for `term(at:)` on the hot end of the log.
    var lastBatch: BatchHeader?

    init(baseOffset: Offset, directory: String, file: any StorageFile, indexFile: any StorageFile) {
        self.baseOffset = baseOffset
        self.logPath = SegmentFileNames.log(directory, baseOffset)
        self.indexPath = SegmentFileNames.index(directory, baseOffset)
        self.file = file
        self.indexFile = indexFile
        self.nextOffset = baseOffset
    }

    var isEmpty: Bool { size == 0 }

    /// Records a batch that now sits at `position` (appended or found by recovery).
    func noteBatch(_ header: BatchHeader, at position: UInt64, indexIntervalBytes: UInt64) {
        Self.indexBatch(header, at: position, base: baseOffset, interval: indexIntervalBytes, index: &index, bytesSinceEntry: &bytesSinceIndexEntry)
        size = position + UInt64(header.length)
        nextOffset = header.nextOffset
        if firstTimestampMilliseconds == nil { firstTimestampMilliseconds = header.firstTimestampMilliseconds }
        maxTimestampMilliseconds = max(maxTimestampMilliseconds, header.maxTimestampMilliseconds)
        lastBatch = header
    }

    /// The sparse-index rule (Kafka's): a batch gets an entry when at least `interval` bytes
    /// were written since the last entry; the batch at position 0 never needs one.
    static func indexBatch(
        _ header: BatchHeader, at position: UInt64, base: Offset, interval: UInt64,
        index: inout OffsetIndex, bytesSinceEntry: inout UInt64
    ) {
        if position > 0 && bytesSinceEntry >= interval {
            let relative = header.baseOffset.rawValue - base.rawValue
            index.append(.init(relativeOffset: UInt32(relative), position: UInt32(position)))
            bytesSinceEntry = 0
        }
        bytesSinceEntry += UInt64(header.length)
    }

    /// Writes the index entries not yet on disk whose data is durable; entries for data not yet
    /// fdatasync'd wait, so that every entry on disk points into durable data.
    func writePendingIndexEntries() throws(SegmentLogError) {
        var writable = index.count
        while writable > indexEntriesOnDisk && UInt64(index.entries[writable - 1].position) >= durableSize { writable -= 1 }
        guard indexEntriesOnDisk < writable else { return }
        let bytes = index.encode(indexEntriesOnDisk..<writable)
        do {
            try indexFile.write(toAbsoluteOffset: UInt64(indexEntriesOnDisk * OffsetIndex.entrySize), bytes)
        } catch {
            throw .io(error, path: indexPath)
        }
        indexEntriesOnDisk = writable
    }

    /// Makes the log data durable and then records the pending index entries.
    func syncData() throws(SegmentLogError) {
        if durableSize < size {
            do { try file.dataSync() } catch { throw .io(error, path: logPath) }
            durableSize = size
        }
        try writePendingIndexEntries()
    }

    /// Records the log data as durable after a whole-file-system sync (syncfs) made it so,
    /// then records the pending index entries, exactly as `syncData` does after its fdatasync.
    func markSynced() throws(SegmentLogError) { try markSynced(upToSize: size) }

    /// Like `markSynced`, for a sync that covered only the first `syncedSize` bytes (later
    /// appends were written after it started).
    func markSynced(upToSize syncedSize: UInt64) throws(SegmentLogError) {
        precondition(syncedSize <= size, "synced beyond the segment's end")
        durableSize = max(durableSize, syncedSize)
        try writePendingIndexEntries()
    }

    /// Removes index entries at or after `position`, on disk first (durably) so that no stale
    /// entry can point into bytes that are about to be rewritten.
    func dropIndexEntries(fromPosition position: UInt64) throws(SegmentLogError) {
        index.removeEntries(fromPosition: position)
        if indexEntriesOnDisk > index.count {
            do {
                try indexFile.truncate(toSize: UInt64(index.count * OffsetIndex.entrySize))
                try indexFile.dataSync()
            } catch {
                throw .io(error, path: indexPath)
            }
            indexEntriesOnDisk = index.count
        }
    }

    /// Where to start scanning to find `offset` (the closest index entry) and the base offset
    /// of the batch that must sit there.
    func scanStart(for offset: Offset) -> (position: UInt64, batchOffset: Offset) {
        let relative = offset.rawValue - baseOffset.rawValue
        guard relative <= UInt64(UInt32.max), let entry = index.lookup(relativeOffset: UInt32(relative)) else {
            return (0, baseOffset)
        }
        return (UInt64(entry.position), baseOffset.advanced(by: UInt64(entry.relativeOffset)))
    }

    func closeFiles() {
        try? file.close()
        try? indexFile.close()
    }
}
