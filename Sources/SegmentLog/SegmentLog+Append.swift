import MOMCore
import SystemIO

extension SegmentLog {
    /// Appends every batch in `buffer` at the log end, assigning consecutive offsets, and
    /// returns the offsets written. Consecutive batches that fit the active segment go out in one
    /// pwrite. The records are not durable until `flush()`.
    @discardableResult
    public func append(_ buffer: RecordBatchBuffer) throws(SegmentLogError) -> Range<Offset> {
        try checkUsable()
        precondition(buffer.openBatchStart == nil, "append with an open batch; call endBatch() first")
        try checkLimits(buffer)
        let first = logEndOffset
        var next = first
        for index in 0..<buffer.batchCount {
            let batch = buffer.batch(index)
            BatchHeader.store(baseOffset: next, into: batch)
            BatchHeader.sealChecksum(batch)
            next = next.advanced(by: UInt64(batch.loadUnaligned(fromByteOffset: 12, as: UInt32.self).littleEndian))
        }
        try write(buffer.bytes, batchStarts: buffer.batchStarts, byteCount: buffer.byteCount)
        return first..<logEndOffset
    }

    /// Appends batches already encoded elsewhere (a follower storing its leader's bytes): each
    /// must be valid and continue the log exactly. Returns the offsets written.
    @discardableResult
    public func appendEncoded(_ bytes: UnsafeRawBufferPointer) throws(SegmentLogError) -> Range<Offset> {
        try checkUsable()
        let first = logEndOffset
        var expected = first
        var starts: [Int] = []
        var position = 0
        // Bounded: each step consumes one batch of at least 64 bytes.
        while position < bytes.count {
            guard bytes.count - position >= BatchHeader.size else { throw .invalidBatch(.badLength(UInt32(bytes.count - position))) }
            let length = Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self)))
            guard length >= BatchHeader.size, length <= bytes.count - position else { throw .invalidBatch(.badLength(UInt32(length))) }
            let raw = UnsafeRawBufferPointer(rebasing: bytes[position..<(position + length)])
            do { try BatchRecords.validate(raw, limits: limits) } catch { throw .invalidBatch(error) }
            let header = BatchHeader(decoding: raw)
            guard header.baseOffset == expected else {
                throw .invalidBatch(.unexpectedOffset(expected: expected, found: header.baseOffset))
            }
            expected = header.nextOffset
            starts.append(position)
            position += length
        }
        try write(bytes, batchStarts: starts, byteCount: bytes.count)
        return first..<logEndOffset
    }

    func checkLimits(_ buffer: RecordBatchBuffer) throws(SegmentLogError) {
        for index in 0..<buffer.batchCount {
            let batch = UnsafeRawBufferPointer(buffer.batch(index))
            if let problem = BatchHeader.checkShape(batch, limits: limits) { throw .invalidBatch(problem) }
        }
    }

    /// Writes whole, sealed batches, rolling segments as needed, one pwrite per segment run.
    func write(_ bytes: UnsafeRawBufferPointer, batchStarts: [Int], byteCount: Int) throws(SegmentLogError) {
        var index = 0
        // Bounded by the batch count: every iteration writes at least one batch.
        while index < batchStarts.count {
            let firstLength = batchLength(batchStarts, index, byteCount)
            try rollIfNeeded(nextBatchBytes: UInt64(firstLength), nextBaseOffset: logEndOffset)
            let segment = segments[segments.count - 1]
            var runEnd = index + 1
            var runBytes = UInt64(firstLength)
            while runEnd < batchStarts.count {
                let length = UInt64(batchLength(batchStarts, runEnd, byteCount))
                if segment.size + runBytes + length > limits.segmentBytesMax { break }
                runBytes += length
                runEnd += 1
            }
            let start = batchStarts[index]
            let run = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + Int(runBytes))])
            // Check right before writing: the run must continue this segment exactly.
            precondition(BatchHeader(decoding: run).baseOffset == segment.nextOffset, "batch does not follow the log end")
            do {
                try prefill(segment, through: segment.size + runBytes)
                try segment.file.write(toAbsoluteOffset: segment.size, run)
            } catch {
                throw fail(.io(error, path: segment.logPath))
            }
            var position = segment.size
            for batch in index..<runEnd {
                let header = BatchHeader(decoding: UnsafeRawBufferPointer(rebasing: bytes[batchStarts[batch]...]))
                segment.noteBatch(header, at: position, indexIntervalBytes: limits.indexIntervalBytes)
                position += UInt64(header.length)
            }
            index = runEnd
        }
    }

    /// Elapsed milliseconds from `earlier` to `later`, 0 if `later` is not after it. Timestamps
    /// come from batches (a follower's input), so the subtraction must not overflow.
    static func milliseconds(from earlier: Int64, to later: Int64) -> UInt64 {
        let (difference, overflow) = later.subtractingReportingOverflow(earlier)
        if overflow { return earlier < 0 ? UInt64.max : 0 }
        return difference > 0 ? UInt64(difference) : 0
    }

    func batchLength(_ starts: [Int], _ index: Int, _ end: Int) -> Int {
        (index + 1 < starts.count ? starts[index + 1] : end) - starts[index]
    }

    /// Starts a new segment when the active one would grow past its size limit, is too old,
    /// or would need a relative offset beyond 32 bits.
    func rollIfNeeded(nextBatchBytes: UInt64, nextBaseOffset: Offset) throws(SegmentLogError) {
        let active = segments[segments.count - 1]
        guard !active.isEmpty else { return }
        let tooBig = active.size + nextBatchBytes > limits.segmentBytesMax
        let tooOld = active.firstTimestampMilliseconds.map {
            SegmentLog.milliseconds(from: $0, to: configuration.clock.wallMilliseconds()) >= limits.segmentAgeMillisecondsMax
        } ?? false
        let relativeOverflow = nextBaseOffset.rawValue - active.baseOffset.rawValue + UInt64(limits.batchRecordsMax)
            > UInt64(UInt32.max)
        if tooBig || tooOld || relativeOverflow { try roll() }
    }

    /// Seals the active segment (data and index durable) and starts an empty one at the log end.
    /// The old segment is synced first so that recovery never finds a hole before a later segment.
    public func roll() throws(SegmentLogError) {
        try checkUsable()
        let active = segments[segments.count - 1]
        guard !active.isEmpty else { return }
        do {
            // A sealed segment ends at its last batch: its zeros go, durably, before the next
            // segment exists, so recovery never finds a tail to cut in front of a later segment.
            try trimPrefill(active)
            try active.syncData()
            try syncIndexFile(active)
            let segment = try createSegment(base: active.nextOffset)
            segments.append(segment)
            try syncDirectory()
        } catch {
            throw fail(error)
        }
        durableEndOffset = logEndOffset
    }

    func syncIndexFile(_ segment: Segment) throws(SegmentLogError) {
        do { try segment.indexFile.dataSync() } catch { throw .io(error, path: segment.indexPath) }
    }

    func syncDirectory() throws(SegmentLogError) {
        do { try fileSystem.syncDirectory(directory) } catch { throw .io(error, path: directory) }
    }

    /// Creates the files of an empty segment; the caller syncs the directory.
    func createSegment(base: Offset) throws(SegmentLogError) -> Segment {
        let logPath = SegmentFileNames.log(directory, base)
        let indexPath = SegmentFileNames.index(directory, base)
        let file: any StorageFile
        do { file = try fileSystem.createFile(logPath) } catch { throw .io(error, path: logPath) }
        let indexFile: any StorageFile
        do {
            indexFile = try fileSystem.createFile(indexPath)
        } catch {
            try? file.close()
            throw .io(error, path: indexPath)
        }
        return Segment(baseOffset: base, directory: directory, file: file, indexFile: indexFile)
    }

    /// Fills the active segment's file with zeros ahead of `end` when `end` passes the filled
    /// part: a step of a quarter of the segment's size, between 64 KiB and `prefillBytesMax`,
    /// so an idle partition costs 64 KiB and a busy one refills every few MiB.
    ///
    /// A failed fill (the disk is full) is not the log's failure: no record was written. The
    /// zeros are cut back, the segment goes on without prefill, and the append itself decides.
    func prefill(_ segment: Segment, through end: UInt64) throws(Errno) {
        let stepMax = configuration.prefillBytesMax
        guard stepMax > 0, segment.prefills, end > segment.filledSize else { return }
        let step = min(stepMax, max(Self.prefillStepMin, segment.size / 4))
        let target = min(Self.roundedUp(end + step), max(end, limits.segmentBytesMax))
        let start = max(segment.size, segment.filledSize)
        var position = start
        do throws(Errno) {
            // Bounded: each write covers up to `zeros.count` bytes of a finite range.
            while position < target {
                let count = Int(min(UInt64(Self.zeros.count), target - position))
                try segment.file.write(toAbsoluteOffset: position, UnsafeRawBufferPointer(rebasing: Self.zeros[0..<count]))
                position += UInt64(count)
            }
        } catch {
            try segment.file.truncate(toSize: start)
            segment.prefills = false
            return
        }
        segment.filledSize = target
    }

    /// Cuts the zeros past a segment's last batch and makes the cut durable.
    func trimPrefill(_ segment: Segment) throws(SegmentLogError) {
        guard segment.filledSize > segment.size else { return }
        do {
            try segment.file.truncate(toSize: segment.size)
            try segment.file.dataSync()
        } catch {
            throw .io(error, path: segment.logPath)
        }
        segment.filledSize = 0
        segment.durableSize = segment.size
    }

    static let prefillStepMin: UInt64 = 64 << 10
    /// 1 MiB of zeros, allocated once and never written (so shared by every log safely).
    nonisolated(unsafe) static let zeros: UnsafeRawBufferPointer = {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        return UnsafeRawBufferPointer(buffer)
    }()

    static func roundedUp(_ value: UInt64) -> UInt64 { (value + 4095) & ~4095 }
}
