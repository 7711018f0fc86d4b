import MOMCore
import SystemIO
import Testing
@testable import SegmentLog

@Suite("Offset index and truncation redo")
struct IndexAndRedoTests {
    func encoded(_ entries: [(UInt32, UInt32)]) -> [UInt8] {
        var bytes: [UInt8] = []
        for (offset, position) in entries {
            withUnsafeBytes(of: offset.littleEndian) { bytes.append(contentsOf: $0) }
            withUnsafeBytes(of: position.littleEndian) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    @Test func lookupFindsTheLastEntryAtOrBefore() {
        let index = OffsetIndex.decode(encoded([(10, 100), (20, 200), (30, 300)]), logSize: 1000)
        #expect(index.count == 3)
        #expect(index.lookup(relativeOffset: 5) == nil)
        #expect(index.lookup(relativeOffset: 10)?.position == 100)
        #expect(index.lookup(relativeOffset: 29)?.position == 200)
        #expect(index.lookup(relativeOffset: 1_000_000)?.position == 300)
        #expect(index.encode(0..<3) == encoded([(10, 100), (20, 200), (30, 300)]))
    }

    @Test func decodeKeepsOnlyTheWellFormedPrefix() {
        // A torn tail (half an entry), a zeroed entry, and entries past the log's end all end it.
        #expect(OffsetIndex.decode(encoded([(10, 100), (20, 200)]) + [1, 2, 3], logSize: 1000).count == 2)
        #expect(OffsetIndex.decode(encoded([(10, 100), (0, 0), (30, 300)]), logSize: 1000).count == 1)
        #expect(OffsetIndex.decode(encoded([(10, 100), (20, 2000)]), logSize: 1000).count == 1)
        #expect(OffsetIndex.decode(encoded([(20, 100), (10, 200)]), logSize: 1000).count == 1)
    }

    @Test func garbledIndexIsRebuilt() throws {
        let fileSystem = SimulatedFileSystem(seed: 21)
        let limits = smallLimits(segmentBytes: 1 << 20, indexIntervalBytes: 64)
        let log = try openLog(fileSystem, limits: limits)
        try appendBatches(log, recordCounts: Array(repeating: 2, count: 30))
        try log.flush()
        log.close()
        // An entry that is well-formed but points into the middle of a batch.
        fileSystem.corrupt("/log/00000000000000000000.index", at: 0, with: encoded([(3, 70)]))
        let reopened = try openLog(fileSystem, limits: limits)
        // Recovery checks only the last entry; the first read through the bad one repairs it.
        #expect(throws: SegmentLogError.self) { try reopened.verify() }
        #expect(try reopened.read(from: Offset(3), maxBytes: 1, maxRecords: 1).first?.offset == Offset(3))
        try reopened.verify()
        #expect(try readAll(reopened).map { Array($0.value) } == (0..<60).map { payload(for: $0, size: 24) })
        #expect(fileSystem.contents(of: "/log/00000000000000000000.index")?.prefix(8) != encoded([(3, 70)])[...])
    }

    @Test func recoveryReplaysAnInterruptedPartialTruncation() throws {
        let fileSystem = SimulatedFileSystem(seed: 22)
        let log = try openLog(fileSystem)
        try appendBatches(log, recordCounts: [5, 5])
        try log.flush()
        // Do the first step of truncate(from: 7) by hand — save the redo record — then "crash".
        let segment = log.segments[0]
        let (position, header) = try log.locateBatch(Offset(7), in: segment)
        let replacement = try log.shortenedBatch(segment, at: position, header: header, keeping: Offset(7))
        var record: [UInt8] = []
        withUnsafeBytes(of: position.littleEndian) { record.append(contentsOf: $0) }
        record.append(contentsOf: replacement)
        try AtomicFile.write(record, to: "/log/00000000000000000000.swap", fileSystem: fileSystem)
        log.close()
        fileSystem.crash()
        let reopened = try openLog(fileSystem)
        #expect(reopened.logEndOffset == Offset(7))
        #expect(try readAll(reopened).map { Array($0.value) } == (0..<7).map { payload(for: $0, size: 24) })
        #expect(!fileSystem.exists("/log/00000000000000000000.swap"))
        try reopened.verify()
    }
}
