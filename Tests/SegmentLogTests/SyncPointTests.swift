import MOMCore
import SystemIO
import Testing
@testable import SegmentLog

/// `SyncPoint`: a whole-file-system sync that started after the point covers the log up to it,
/// and only up to it (asynchronous storage writes keep appending meanwhile).
@Suite struct SyncPointTests {
    @Test func marksDurableUpToThePointOnly() throws {
        let fileSystem = SimulatedFileSystem(seed: 11)
        let log = try openLog(fileSystem, limits: smallLimits(segmentBytes: 1 << 20))
        try appendBatches(log, recordCounts: [3, 2])
        let point = log.syncPoint
        #expect(point.end == Offset(5))
        try SimulatedFileSystemSync(fileSystem).sync()
        try appendBatches(log, recordCounts: [4])
        #expect(try log.markFlushedByFileSystemSync(through: point))
        #expect(log.durableEndOffset == Offset(5), "records appended after the point stay pending")
        #expect(log.logEndOffset == Offset(9))
        // Marking an older point again changes nothing.
        #expect(try log.markFlushedByFileSystemSync(through: point))
        #expect(log.durableEndOffset == Offset(5))
    }

    @Test func aRollSinceThePointAlreadyCoveredIt() throws {
        let fileSystem = SimulatedFileSystem(seed: 12)
        let log = try openLog(fileSystem)
        try appendBatches(log, recordCounts: [2])
        let point = log.syncPoint
        try log.roll()
        try appendBatches(log, recordCounts: [1])
        #expect(try log.markFlushedByFileSystemSync(through: point))
        #expect(log.durableEndOffset == Offset(2), "the roll synced the sealed segment")
    }

    @Test func aTruncationSinceThePointVoidsIt() throws {
        let fileSystem = SimulatedFileSystem(seed: 13)
        let log = try openLog(fileSystem, limits: smallLimits(segmentBytes: 1 << 20))
        try appendBatches(log, recordCounts: [2])
        let durableBefore = try log.flush()
        try appendBatches(log, recordCounts: [3])
        let point = log.syncPoint
        try log.truncate(from: Offset(3))
        try appendBatches(log, recordCounts: [4], term: Term(2))
        #expect(!(try log.markFlushedByFileSystemSync(through: point)), "the records below the point were rewritten")
        #expect(log.durableEndOffset >= durableBefore)
        #expect(log.durableEndOffset == Offset(3), "only the truncation's own sync counts")
    }
}
