import MOMCore
import SystemIO
@testable import SegmentLog

/// Small limits so a few records exercise rolling and the sparse index.
func smallLimits(segmentBytes: UInt64 = 2048, indexIntervalBytes: UInt64 = 256) -> Limits {
    var limits = Limits()
    limits.segmentBytesMax = segmentBytes
    limits.indexIntervalBytes = indexIntervalBytes
    limits.batchBytesMax = 64 << 10
    limits.batchRecordsMax = 1024
    return limits
}

/// The deterministic payload of the record at `offset`: its offset in the first 8 bytes,
/// then a pattern, so any misplaced or torn record is recognisable.
func payload(for offset: UInt64, size: Int) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: size)
    for index in 0..<size {
        bytes[index] = index < 8 ? UInt8(truncatingIfNeeded: offset >> (8 * UInt64(index)))
            : UInt8(truncatingIfNeeded: offset &* 31 &+ UInt64(index))
    }
    return bytes
}

/// Appends `recordCounts.count` batches whose records carry `payload(for:size:)`.
@discardableResult
func appendBatches(
    _ log: SegmentLog, recordCounts: [Int], size: Int = 24, term: Term = Term(1), clock: ManualClock? = nil
) throws -> Range<Offset> {
    let buffer = RecordBatchBuffer(capacityBytes: 256)
    var next = log.logEndOffset.rawValue
    for count in recordCounts {
        buffer.beginBatch(term: term, timestampMilliseconds: clock?.wallMilliseconds() ?? 1_700_000_000_000)
        for _ in 0..<count {
            buffer.appendRecord(payload(for: next, size: size))
            next += 1
        }
        buffer.endBatch()
    }
    return try log.append(buffer)
}

/// Every record from `from` to the log end, following segments.
func readAll(_ log: SegmentLog, from: Offset? = nil) throws -> [LogRecord] {
    var offset = from ?? log.logStartOffset
    var records: [LogRecord] = []
    var reads = 0
    while offset < log.logEndOffset {
        let chunk = try log.read(from: offset, maxBytes: 1000, maxRecords: 100)
        records.append(contentsOf: chunk)
        offset = chunk.nextOffset
        reads += 1
        precondition(reads < 1_000_000, "readAll does not progress")
    }
    return records
}

func openLog(_ fileSystem: any FileSystem, limits: Limits = smallLimits(), clock: any Clock = ManualClock()) throws -> SegmentLog {
    try SegmentLog.open(directory: "/log", fileSystem: fileSystem, configuration: .init(limits: limits, clock: clock))
}
