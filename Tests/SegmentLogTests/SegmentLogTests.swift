import MOMCore
import SystemIO
import Testing
@testable import SegmentLog

@Suite("SegmentLog")
struct SegmentLogTests {
    @Test func appendAndReadFromAnyOffset() throws {
        let fileSystem = SimulatedFileSystem(seed: 1)
        let log = try openLog(fileSystem)
        #expect(log.logStartOffset == .zero && log.logEndOffset == .zero && log.lastTerm == nil)
        let written = try appendBatches(log, recordCounts: [3, 1, 5, 2, 7, 1, 4])
        #expect(written == Offset(0)..<Offset(23))
        #expect(log.durableEndOffset == .zero)
        #expect(try log.flush() == Offset(23))
        for start in 0...23 {
            let records = try readAll(log, from: Offset(UInt64(start)))
            #expect(records.map(\.offset.rawValue) == Array(UInt64(start)..<23))
            for record in records { #expect(Array(record.value) == payload(for: record.offset.rawValue, size: 24)) }
        }
        let limited = try log.read(from: Offset(4), maxBytes: 1, maxRecords: 2)
        #expect(limited.map(\.offset) == [Offset(4), Offset(5)])
        #expect(limited.nextOffset == Offset(6))
        let oneBatch = try log.read(from: Offset(4), maxBytes: 1, maxRecords: 100)
        #expect(oneBatch.map(\.offset.rawValue) == [4, 5, 6, 7, 8])  // one whole batch even past maxBytes
        #expect(try log.read(from: Offset(23), maxBytes: 100, maxRecords: 10).isEmpty)
        #expect(throws: SegmentLogError.offsetOutOfRange(requested: Offset(24), logStart: .zero, logEnd: Offset(23))) {
            try log.read(from: Offset(24), maxBytes: 100, maxRecords: 10)
        }
        try log.verify()
    }

    @Test func batchMetadataAndTerms() throws {
        let log = try openLog(SimulatedFileSystem(seed: 2))
        let buffer = RecordBatchBuffer()
        buffer.beginBatch(term: Term(3), attributes: 0x5, timestampMilliseconds: 100, producerID: 9, sequence: 40)
        buffer.appendRecord([1])
        buffer.appendRecord([])
        buffer.noteTimestamp(milliseconds: 150)
        buffer.endBatch()
        buffer.beginBatch(term: Term(4), timestampMilliseconds: 200)
        buffer.appendRecord(byteCount: 3) { $0.copyBytes(from: [7, 8, 9]) }
        buffer.endBatch()
        #expect(try log.append(buffer) == Offset(0)..<Offset(3))
        let records = try log.read(from: .zero, maxBytes: 1 << 20, maxRecords: 10)
        #expect(records.map(\.term) == [Term(3), Term(3), Term(4)])
        #expect(records[0].attributes == 5 && records[0].producerID == 9 && records[1].sequence == 41)
        #expect(records[0].timestampMilliseconds == 150)
        #expect(records.map { Array($0.value) } == [[1], [], [7, 8, 9]])
        #expect(try log.term(at: Offset(1)) == Term(3))
        #expect(try log.term(at: Offset(2)) == Term(4))
        #expect(log.lastTerm == Term(4))
    }

    @Test func rollsBySizeAndAgeWithSortableNames() throws {
        let fileSystem = SimulatedFileSystem(seed: 3)
        let clock = ManualClock()
        let log = try openLog(fileSystem, clock: clock)
        try appendBatches(log, recordCounts: Array(repeating: 4, count: 40), clock: clock)
        #expect(log.segmentCount > 3)
        #expect(log.durableEndOffset > .zero)  // rolling synced the sealed segments
        var limits = smallLimits(segmentBytes: 1 << 20)
        limits.segmentAgeMillisecondsMax = 1000
        let aged = try SegmentLog.open(directory: "/aged", fileSystem: fileSystem, configuration: .init(limits: limits, clock: clock))
        try appendBatches(aged, recordCounts: [1], clock: clock)
        clock.advance(byMilliseconds: 999)
        try appendBatches(aged, recordCounts: [1], clock: clock)
        #expect(aged.segmentCount == 1)
        clock.advance(byMilliseconds: 1)
        try appendBatches(aged, recordCounts: [1], clock: clock)
        #expect(aged.segmentCount == 2)
        #expect(try fileSystem.listDirectory("/aged").sorted() == [
            "00000000000000000000.index", "00000000000000000000.log",
            "00000000000000000002.index", "00000000000000000002.log",
        ])
        try log.verify()
        try aged.verify()
    }

    @Test func reopenRecoversEverythingFlushed() throws {
        let fileSystem = SimulatedFileSystem(seed: 4)
        let log = try openLog(fileSystem)
        try appendBatches(log, recordCounts: Array(repeating: 3, count: 50), term: Term(2))
        try log.flush()
        log.close()
        let reopened = try openLog(fileSystem)
        #expect(reopened.logEndOffset == Offset(150) && reopened.durableEndOffset == Offset(150))
        #expect(try readAll(reopened).count == 150)
        #expect(reopened.lastTerm == Term(2))
        try reopened.verify()
        try appendBatches(reopened, recordCounts: [2])
        #expect(reopened.logEndOffset == Offset(152))
    }

    @Test func truncationAtBoundaryInsideABatchAndAcrossSegments() throws {
        let fileSystem = SimulatedFileSystem(seed: 5)
        let log = try openLog(fileSystem)
        try appendBatches(log, recordCounts: Array(repeating: 5, count: 40), term: Term(1))
        let segmentsBefore = log.segmentCount
        try log.truncate(from: Offset(102))  // inside a batch of [100, 105)
        #expect(log.logEndOffset == Offset(102) && log.durableEndOffset == Offset(102))
        #expect(log.segmentCount < segmentsBefore)
        #expect(try log.term(at: Offset(101)) == Term(1))
        try log.verify()
        try log.truncate(from: Offset(95))  // a batch boundary
        #expect(log.logEndOffset == Offset(95))
        try appendBatches(log, recordCounts: [3], term: Term(2))
        #expect(try log.term(at: Offset(96)) == Term(2))
        try log.flush()
        log.close()
        let reopened = try openLog(fileSystem)
        let records = try readAll(reopened)
        #expect(records.map(\.offset.rawValue) == Array(0..<98))
        #expect(records.allSatisfy { Array($0.value) == payload(for: $0.offset.rawValue, size: 24) })
        try reopened.verify()
        try reopened.truncate(from: .zero)
        #expect(reopened.logEndOffset == .zero && reopened.segmentCount == 1)
        #expect(throws: SegmentLogError.self) { try reopened.truncate(from: Offset(5)) }
    }

    @Test func retentionByBytesAgeAndExplicitPrefix() throws {
        let fileSystem = SimulatedFileSystem(seed: 6)
        let clock = ManualClock()
        let log = try openLog(fileSystem, clock: clock)
        try appendBatches(log, recordCounts: Array(repeating: 4, count: 30), clock: clock)
        clock.advance(byMilliseconds: 10_000)
        try appendBatches(log, recordCounts: Array(repeating: 4, count: 30), clock: clock)
        let segments = log.segmentCount
        #expect(try log.applyRetention(bytesMax: nil, ageMillisecondsMax: 5_000) > 0)
        #expect(log.logStartOffset > .zero && log.logStartOffset <= Offset(120))
        #expect(log.segmentCount < segments)
        #expect(try log.applyRetention(bytesMax: 3000, ageMillisecondsMax: nil) > 0)
        #expect(log.sizeBytes <= 3000 || log.segmentCount == 1)
        let start = log.logStartOffset
        #expect(throws: SegmentLogError.self) { try log.read(from: start.previousOffset, maxBytes: 10, maxRecords: 1) }
        try log.deletePrefix(before: log.logEndOffset)
        #expect(log.segmentCount == 1)
        try log.verify()
        log.close()
        let names = try fileSystem.listDirectory("/log")
        #expect(!names.contains { $0.hasSuffix(".deleted") })
        let reopened = try openLog(fileSystem)
        #expect(reopened.logEndOffset == Offset(240))
        #expect(try readAll(reopened).first?.offset == reopened.logStartOffset)
    }

    @Test func resetRestartsTheLogAtASnapshotOffset() throws {
        let fileSystem = SimulatedFileSystem(seed: 12)
        let log = try openLog(fileSystem)
        try appendBatches(log, recordCounts: Array(repeating: 4, count: 30))
        try log.reset(startingAt: Offset(500))
        #expect(log.logStartOffset == Offset(500) && log.logEndOffset == Offset(500) && log.durableEndOffset == Offset(500))
        try appendBatches(log, recordCounts: [2])
        try log.flush()
        log.close()
        fileSystem.crash()
        let reopened = try openLog(fileSystem)
        #expect(reopened.logStartOffset == Offset(500) && reopened.logEndOffset == Offset(502))
        #expect(try fileSystem.listDirectory("/log").sorted() == ["00000000000000000500.index", "00000000000000000500.log"])
        try reopened.verify()
    }

    @Test func hostileTimestampsDoNotOverflowAgeChecks() throws {
        let clock = ManualClock()
        var limits = smallLimits(segmentBytes: 1 << 20)
        limits.segmentAgeMillisecondsMax = 1000
        let log = try openLog(SimulatedFileSystem(seed: 13), limits: limits, clock: clock)
        let buffer = RecordBatchBuffer()
        for timestamp in [Int64.min, Int64.max, 0] {
            buffer.removeAll()
            buffer.beginBatch(term: Term(1), timestampMilliseconds: timestamp)
            buffer.appendRecord([1])
            buffer.endBatch()
            try log.append(buffer)
        }
        try log.applyRetention(bytesMax: nil, ageMillisecondsMax: 1)
        #expect(log.logEndOffset == Offset(3))
        #expect(SegmentLog.milliseconds(from: .min, to: .max) == UInt64.max)
        #expect(SegmentLog.milliseconds(from: .max, to: .min) == 0)
    }

    @Test func appendEncodedCopiesALeaderLogAndRejectsBadBatches() throws {
        let leader = try openLog(SimulatedFileSystem(seed: 7))
        try appendBatches(leader, recordCounts: [2, 3, 4], term: Term(5))
        let encoded = try leader.readEncodedBatches(from: .zero, maxBytes: 1 << 20)
        #expect(encoded.firstOffset == .zero && encoded.nextOffset == Offset(9))
        let follower = try openLog(SimulatedFileSystem(seed: 8))
        var corrupted = encoded.bytes
        corrupted[70] ^= 0xFF
        #expect(throws: SegmentLogError.invalidBatch(.checksumMismatch)) {
            try corrupted.withUnsafeBytes { try follower.appendEncoded($0) }
        }
        #expect(try encoded.bytes.withUnsafeBytes { try follower.appendEncoded($0) } == Offset(0)..<Offset(9))
        #expect(throws: SegmentLogError.invalidBatch(.unexpectedOffset(expected: Offset(9), found: .zero))) {
            try encoded.bytes.withUnsafeBytes { try follower.appendEncoded($0) }
        }
        #expect(try readAll(follower).map { Array($0.value) } == (0..<9).map { payload(for: $0, size: 24) })
    }

    @Test func writeFailureFailsTheLogUntilReopened() throws {
        let fileSystem = SimulatedFileSystem(seed: 9)
        let log = try openLog(fileSystem)
        try appendBatches(log, recordCounts: [2])
        try log.flush()
        fileSystem.failNext(.write, with: .noSpace)
        #expect(throws: SegmentLogError.io(.noSpace, path: "/log/00000000000000000000.log")) {
            try appendBatches(log, recordCounts: [2])
        }
        #expect(throws: SegmentLogError.failed(.noSpace)) { try log.flush() }
        log.close()
        let reopened = try openLog(fileSystem)
        #expect(reopened.logEndOffset == Offset(2))
        try reopened.verify()
    }

    @Test func recoveryDropsACorruptTailAndRebuildsAMissingIndex() throws {
        let fileSystem = SimulatedFileSystem(seed: 10)
        let log = try openLog(fileSystem, limits: smallLimits(segmentBytes: 1 << 20, indexIntervalBytes: 128))
        try appendBatches(log, recordCounts: Array(repeating: 2, count: 20))
        try log.flush()
        // The last batch's end (the file runs on with prefill zeros past it).
        let size = Int(log.sizeBytes)
        log.close()
        let path = "/log/00000000000000000000.log"
        fileSystem.corrupt(path, at: size - 3, with: [0xAA])
        try fileSystem.removeFile("/log/00000000000000000000.index")
        let reopened = try openLog(fileSystem, limits: smallLimits(segmentBytes: 1 << 20, indexIntervalBytes: 128))
        #expect(reopened.logEndOffset == Offset(38))
        try reopened.verify()
        #expect(try readAll(reopened).count == 38)
        #expect(fileSystem.contents(of: "/log/00000000000000000000.index")!.count > 0)
    }

    @Test func atomicFileRoundTripAndDetectsCorruption() throws {
        let fileSystem = SimulatedFileSystem(seed: 11)
        #expect(try AtomicFile.read("/raft-state", fileSystem: fileSystem) == nil)
        try AtomicFile.write([1, 2, 3], to: "/raft-state", fileSystem: fileSystem)
        try AtomicFile.write([4, 5], to: "/raft-state", fileSystem: fileSystem)
        fileSystem.crash()
        #expect(try AtomicFile.read("/raft-state", fileSystem: fileSystem) == [4, 5])
        fileSystem.corrupt("/raft-state", at: 13, with: [9])
        #expect(throws: SegmentLogError.self) { try AtomicFile.read("/raft-state", fileSystem: fileSystem) }
    }

    @Test func worksOnTheRealFileSystem() throws {
        let directory = try FileSystemCalls.makeTemporaryDirectory(prefix: "mom-segmentlog-")
        defer { try? FileSystemCalls.removeTree(directory) }
        let configuration = SegmentLog.Configuration(limits: smallLimits(), clock: ManualClock())
        let log = try SegmentLog.open(directory: directory + "/p0", fileSystem: PosixFileSystem(), configuration: configuration)
        try appendBatches(log, recordCounts: Array(repeating: 3, count: 30))
        try log.truncate(from: Offset(80))
        try log.flush()
        log.close()
        let reopened = try SegmentLog.open(directory: directory + "/p0", fileSystem: PosixFileSystem(), configuration: configuration)
        #expect(reopened.logEndOffset == Offset(80))
        #expect(try readAll(reopened).allSatisfy { Array($0.value) == payload(for: $0.offset.rawValue, size: 24) })
        try reopened.verify()
    }
}
