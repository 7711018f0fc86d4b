import MOMCore
import SystemIO
import Testing
@testable import SegmentLog

/// The active segment file is filled with zeros ahead of its end (`prefillBytesMax`), so an
/// fdatasync does not have to write the file's size and block map with every append.
@Suite struct PrefillTests {
    static let first = "/log/00000000000000000000.log"

    static func open(_ fileSystem: SimulatedFileSystem, limits: Limits = smallLimits(segmentBytes: 1 << 30), prefill: UInt64 = 4 << 20) throws -> SegmentLog {
        try SegmentLog.open(directory: "/log", fileSystem: fileSystem,
                            configuration: .init(limits: limits, clock: ManualClock(), prefillBytesMax: prefill))
    }

    static func segmentFiles(_ fileSystem: SimulatedFileSystem) throws -> [String] {
        try fileSystem.listDirectory("/log").filter { $0.hasSuffix(".log") }.sorted().map { "/log/\($0)" }
    }

    @Test func theActiveSegmentRunsOnWithZerosAtMostOneStepAhead() throws {
        let fileSystem = SimulatedFileSystem(seed: 1)
        let log = try Self.open(fileSystem)
        try appendBatches(log, recordCounts: [2, 3])
        let data = Int(log.sizeBytes)
        var file = try #require(fileSystem.contents(of: Self.first))
        #expect(file.count == 64 << 10 + 4096, "the first fill: the data rounded up past a 64 KiB step")
        #expect(file[data...].allSatisfy { $0 == 0 })
        #expect(try readAll(log).count == 5)

        // Past the filled part, the next fill is a quarter of the segment (at least 64 KiB).
        try appendBatches(log, recordCounts: Array(repeating: 64, count: 40), size: 200)
        let grown = Int(log.sizeBytes)
        file = try #require(fileSystem.contents(of: Self.first))
        #expect(grown > 64 << 10 + 4096, "past the first fill")
        #expect(file.count > grown && file.count % 4096 == 0)
        #expect(file.count - grown <= max(64 << 10, grown / 4) + 4096, "never more than one step ahead")
        #expect(file[grown...].allSatisfy { $0 == 0 })
        try log.flush()
        try log.verify()
    }

    @Test func withoutPrefillTheFileIsExactlyItsBatches() throws {
        let fileSystem = SimulatedFileSystem(seed: 2)
        let log = try Self.open(fileSystem, prefill: 0)
        try appendBatches(log, recordCounts: [2, 3])
        #expect(fileSystem.contents(of: Self.first)?.count == Int(log.sizeBytes))
    }

    /// A full disk while filling costs the prefill, not the log: the append goes on.
    @Test func aFailedFillLeavesTheLogWorkingWithoutPrefill() throws {
        let fileSystem = SimulatedFileSystem(seed: 7)
        let log = try Self.open(fileSystem)
        fileSystem.failNext(.write, with: .noSpace)
        try appendBatches(log, recordCounts: [2, 3])
        try log.flush()
        #expect(fileSystem.contents(of: Self.first)?.count == Int(log.sizeBytes), "the zeros written before the failure are cut")
        try appendBatches(log, recordCounts: [4])
        try log.flush()
        #expect(fileSystem.contents(of: Self.first)?.count == Int(log.sizeBytes), "and the segment is not filled again")
        log.close()
        fileSystem.crash()
        let reopened = try Self.open(fileSystem)
        #expect(reopened.logEndOffset == Offset(9))
        #expect(try readAll(reopened).count == 9)
    }

    @Test func aSealedSegmentEndsAtItsLastBatch() throws {
        let fileSystem = SimulatedFileSystem(seed: 3)
        let log = try Self.open(fileSystem, limits: smallLimits(segmentBytes: 2048))
        try appendBatches(log, recordCounts: Array(repeating: 2, count: 60))
        try log.flush()
        #expect(log.segments.count > 2)
        for sealed in log.segments.dropLast() {
            #expect(fileSystem.contents(of: sealed.logPath)?.count == Int(sealed.size), "\(sealed.logPath) ends with its last batch")
        }
        let active = try #require(log.segments.last)
        #expect((fileSystem.contents(of: active.logPath)?.count ?? 0) > Int(active.size), "the active one runs on with zeros")
        log.close()
        let reopened = try Self.open(fileSystem, limits: smallLimits(segmentBytes: 2048))
        #expect(reopened.logEndOffset == Offset(120))
        try reopened.verify()
    }

    /// The safety property: bytes of truncated records never sit past the end, where a
    /// recovery scan could take them for a continuation of the log.
    @Test func truncatedRecordsDoNotComeBackAfterRefillAndRestart() throws {
        let fileSystem = SimulatedFileSystem(seed: 4)
        let log = try Self.open(fileSystem)
        try appendBatches(log, recordCounts: Array(repeating: 2, count: 20), term: Term(1))
        try log.flush()
        try log.truncate(from: Offset(10))
        #expect(fileSystem.contents(of: Self.first)?.count == Int(log.sizeBytes), "the cut removes the zeros too")
        try appendBatches(log, recordCounts: [2], term: Term(2))
        try log.flush()
        let file = try #require(fileSystem.contents(of: Self.first))
        #expect(file[Int(log.sizeBytes)...].allSatisfy { $0 == 0 }, "the refill wrote zeros over the old batches' place")
        log.close()
        // A power cut now: only what was synced counts.
        fileSystem.crash()

        let reopened = try Self.open(fileSystem)
        #expect(reopened.logEndOffset == Offset(12))
        #expect(try reopened.term(at: Offset(11)) == Term(2))
        try reopened.verify()
    }

    /// A log of several segments whose first (sealed) segment gets `tail` appended on disk
    /// after it was closed; returns the file system, that segment's path and its true size.
    static func sealedSegment(withTail tail: [UInt8], seed: UInt64) throws -> (SimulatedFileSystem, String, UInt64) {
        let fileSystem = SimulatedFileSystem(seed: seed)
        let log = try open(fileSystem, limits: smallLimits(segmentBytes: 2048))
        try appendBatches(log, recordCounts: Array(repeating: 2, count: 60))
        try log.flush()
        log.close()
        let sealed = try #require(try segmentFiles(fileSystem).first)
        let file = try fileSystem.openFile(sealed)
        let size = try file.size()
        try file.write(toAbsoluteOffset: size, tail)
        try file.dataSync()
        try file.close()
        return (fileSystem, sealed, size)
    }

    /// As if a sealed segment had kept its prefill (an older build, a crash between the trim
    /// and the roll): recovery cuts the zeros and keeps every later segment.
    @Test func aZeroTailInFrontOfALaterSegmentIsNotATornTail() throws {
        let (fileSystem, sealed, size) = try Self.sealedSegment(withTail: [UInt8](repeating: 0, count: 5000), seed: 5)
        let reopened = try Self.open(fileSystem, limits: smallLimits(segmentBytes: 2048))
        #expect(reopened.logEndOffset == Offset(120))
        #expect(fileSystem.contents(of: sealed)?.count == Int(size))
        try reopened.verify()
    }

    @Test func aTornTailPastZerosStillCutsTheLaterSegments() throws {
        let (fileSystem, _, _) = try Self.sealedSegment(withTail: [0, 0, 0, 0, 0x7F], seed: 6)
        let reopened = try Self.open(fileSystem, limits: smallLimits(segmentBytes: 2048))
        #expect(try Self.segmentFiles(fileSystem).count == 1, "garbage that is not zeros is a torn tail: nothing after it is trusted")
        #expect(reopened.logEndOffset < Offset(120))
        try reopened.verify()
    }
}
