import MOMCore
import SystemIO

extension SegmentLog {
    /// Brings the directory back to a consistent log (DESIGN.md §3 "Recovery"): discards
    /// leftovers of interrupted renames, finishes an interrupted partial truncation, recovers
    /// each segment from its last trusted index entry, and drops anything after the first
    /// torn batch or gap, so the log is always one contiguous run of offsets.
    func recover() throws(SegmentLogError) {
        try ensureDirectory()
        var names: [String]
        do { names = try fileSystem.listDirectory(directory) } catch { throw .io(error, path: directory) }
        var changed = try removeLeftovers(names)
        for name in names {
            if let base = SegmentFileNames.baseOffset(of: name, suffix: SegmentFileNames.swapSuffix) {
                try redoPartialTruncation(base: base)
                changed = true
            }
        }
        do { names = try fileSystem.listDirectory(directory) } catch { throw .io(error, path: directory) }
        let bases = names.compactMap { SegmentFileNames.baseOffset(of: $0, suffix: SegmentFileNames.logSuffix) }.sorted()
        let baseSet = Set(bases)
        for name in names {
            if let base = SegmentFileNames.baseOffset(of: name, suffix: SegmentFileNames.indexSuffix), !baseSet.contains(base) {
                try removeFile("\(directory)/\(name)")
                changed = true
            }
        }
        for (position, base) in bases.enumerated() {
            if let previous = segments.last, previous.nextOffset != base {
                try removeSegmentFiles(bases[position...])
                changed = true
                break
            }
            let (segment, tailDropped) = try recoverSegment(base: base)
            segments.append(segment)
            if tailDropped && position + 1 < bases.count {
                try removeSegmentFiles(bases[(position + 1)...])
                changed = true
                break
            }
        }
        if segments.isEmpty {
            segments.append(try createSegment(base: configuration.initialOffset))
            // A new, empty log and nothing else repaired: its owner may make it durable later.
            if !changed && configuration.defersCreationSync {
                creationIsUnsynced = true
            } else {
                changed = true
            }
        }
        if changed { try syncDirectory() }
        durableEndOffset = logEndOffset
    }

    /// Makes a new log's directory entries durable with a directory fsync of its own (after
    /// `open` deferred it).
    public func syncCreation() throws(SegmentLogError) {
        guard creationIsUnsynced else { return }
        try syncDirectory()
        creationIsUnsynced = false
    }

    /// After a sync that covered the new log's directory (a whole-file-system sync started
    /// after `open`, or the owner's fsync of the directory): the new log is durable.
    public func markCreationDurable() { creationIsUnsynced = false }

    func ensureDirectory() throws(SegmentLogError) {
        guard !fileSystem.exists(directory) else { return }
        do {
            try fileSystem.makeDirectory(directory)
            try fileSystem.syncDirectory(AtomicFile.parentDirectory(of: directory))
        } catch {
            throw .io(error, path: directory)
        }
    }

    /// Removes files of interrupted operations: `.deleted` (retention already decided to drop
    /// them), `.tmp` (an AtomicFile write that never got renamed), `.cleaned` (compaction output).
    func removeLeftovers(_ names: [String]) throws(SegmentLogError) -> Bool {
        var removed = false
        for name in names {
            let leftover = name.hasSuffix(SegmentFileNames.deletedSuffix) || name.hasSuffix(SegmentFileNames.temporarySuffix)
                || name.hasSuffix(SegmentFileNames.cleanedSuffix)
            if leftover {
                try removeFile("\(directory)/\(name)")
                removed = true
            }
        }
        return removed
    }

    func removeFile(_ path: String) throws(SegmentLogError) {
        do { try fileSystem.removeFile(path) } catch { throw .io(error, path: path) }
    }

    /// Removes the files of segments found after a gap or a torn segment, newest first.
    func removeSegmentFiles(_ bases: ArraySlice<Offset>) throws(SegmentLogError) {
        for base in bases.reversed() {
            try removeFile(SegmentFileNames.log(directory, base))
            let indexPath = SegmentFileNames.index(directory, base)
            if fileSystem.exists(indexPath) { try removeFile(indexPath) }
        }
    }

    /// Opens one segment, trusts its index up to the last entry that points at a valid batch,
    /// scans forward from there, and cuts the file at the first invalid batch. Returns whether
    /// it cut anything.
    func recoverSegment(base: Offset) throws(SegmentLogError) -> (Segment, Bool) {
        let logPath = SegmentFileNames.log(directory, base)
        let indexPath = SegmentFileNames.index(directory, base)
        let file: any StorageFile
        let indexFile: any StorageFile
        var fileSize: UInt64
        var indexBytes: [UInt8]
        do { file = try fileSystem.openFile(logPath); fileSize = try file.size() } catch { throw .io(error, path: logPath) }
        do {
            indexFile = fileSystem.exists(indexPath) ? try fileSystem.openFile(indexPath) : try fileSystem.createFile(indexPath)
            let indexSize = try indexFile.size()
            indexBytes = try indexFile.readBytes(fromAbsoluteOffset: 0, count: Int(indexSize))
        } catch {
            try? file.close()
            throw .io(error, path: indexPath)
        }
        let segment = Segment(baseOffset: base, directory: directory, file: file, indexFile: indexFile)
        segment.index = OffsetIndex.decode(indexBytes, logSize: fileSize)
        var start: UInt64 = 0
        while let entry = segment.index.last {
            let expected = base.advanced(by: UInt64(entry.relativeOffset))
            if try batchIsValid(segment, at: UInt64(entry.position), fileSize: fileSize, expected: expected) {
                start = UInt64(entry.position)
                segment.size = start
                segment.nextOffset = expected
                break
            }
            segment.index.removeLast()
        }
        segment.indexEntriesOnDisk = segment.index.count
        if indexBytes.count != segment.index.count * OffsetIndex.entrySize {
            do { try indexFile.truncate(toSize: UInt64(segment.index.count * OffsetIndex.entrySize)) } catch {
                throw .io(error, path: indexPath)
            }
        }
        let validEnd = try scanValidBatches(segment, from: start, fileSize: fileSize)
        let tailCut = validEnd < fileSize
        // Zeros past the last batch are the active segment's prefill, not a torn batch: no
        // record was lost there (a later segment must still continue this one exactly).
        var tailDropped = false
        if tailCut { tailDropped = try !isZeroFilled(segment, from: validEnd, to: fileSize) }
        do {
            if tailCut { try file.truncate(toSize: validEnd) }
            try file.dataSync()
        } catch {
            throw .io(error, path: logPath)
        }
        segment.durableSize = segment.size
        try segment.writePendingIndexEntries()
        if start > 0 { try readFirstTimestamp(segment) }
        return (segment, tailDropped)
    }

    /// Whether the bytes from `start` to `end` are all zero (read in 1 MiB chunks, stopping at
    /// the first byte that is not).
    func isZeroFilled(_ segment: Segment, from start: UInt64, to end: UInt64) throws(SegmentLogError) -> Bool {
        var position = start
        // Bounded: each read advances `position` by at least one byte of a finite range.
        while position < end {
            let count = Int(min(1 << 20, end - position))
            let bytes: [UInt8]
            do { bytes = try segment.file.readBytes(fromAbsoluteOffset: position, count: count) } catch {
                throw .io(error, path: segment.logPath)
            }
            guard bytes.count == count, !bytes.contains(where: { $0 != 0 }) else { return false }
            position += UInt64(count)
        }
        return true
    }

    /// Scans from `start`, noting every valid batch; returns where the valid prefix ends.
    func scanValidBatches(_ segment: Segment, from start: UInt64, fileSize: UInt64) throws(SegmentLogError) -> UInt64 {
        let scanner = BatchScanner(file: segment.file, path: segment.logPath, end: fileSize, chunkBytes: 1 << 20, limits: limits)
        let checksums = recoveryVerifiesChecksums
        let interval = limits.indexIntervalBytes
        let stop = try scanner.scan(from: start) { (position, raw) throws(SegmentLogError) -> Bool in
            // Index positions are 32-bit; a file beyond that is not one this log wrote.
            if position > UInt64(UInt32.max) { return false }
            do { try BatchRecords.validate(raw, limits: limits, checksums: checksums) } catch { return false }
            let header = BatchHeader(decoding: raw)
            if header.baseOffset != segment.nextOffset { return false }
            segment.noteBatch(header, at: position, indexIntervalBytes: interval)
            return true
        }
        switch stop {
        case .end: return fileSize
        case .invalid(let position), .stopped(let position): return position
        }
    }

    func batchIsValid(_ segment: Segment, at position: UInt64, fileSize: UInt64, expected: Offset) throws(SegmentLogError) -> Bool {
        let scanner = BatchScanner(file: segment.file, path: segment.logPath, end: fileSize, chunkBytes: 64 << 10, limits: limits)
        var valid = false
        let checksums = recoveryVerifiesChecksums
        _ = try scanner.scan(from: position) { (_, raw) throws(SegmentLogError) -> Bool in
            do {
                try BatchRecords.validate(raw, limits: limits, checksums: checksums)
                valid = BatchHeader(decoding: raw).baseOffset == expected
            } catch {
                valid = false
            }
            return false
        }
        return valid
    }

    func readFirstTimestamp(_ segment: Segment) throws(SegmentLogError) {
        do {
            let bytes = try segment.file.readBytes(fromAbsoluteOffset: 0, count: BatchHeader.size)
            segment.firstTimestampMilliseconds = bytes.withUnsafeBytes { BatchHeader(decoding: $0).firstTimestampMilliseconds }
        } catch {
            throw .io(error, path: segment.logPath)
        }
    }
}
