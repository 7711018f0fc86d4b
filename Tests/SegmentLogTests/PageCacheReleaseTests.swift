import MOMCore
import SystemIO
import Testing
@testable import SegmentLog

/// Durable pages more than `cachedTailBytes` behind the log end leave the page cache as the log
/// grows (`SegmentLog.releaseCachedPages`): only synced data, whole pages, each page once.
@Suite struct PageCacheReleaseTests {
    static let step = SegmentLog.cacheReleaseStep

    /// A log in `directory` with batches up to 1 MiB and no roll, keeping `keep` bytes cached.
    static func open(_ fileSystem: RecordingFileSystem, directory: String = "/log", keep: UInt64?) throws -> SegmentLog {
        var limits = smallLimits(segmentBytes: 1 << 30)
        limits.batchBytesMax = 1 << 20
        return try SegmentLog.open(directory: directory, fileSystem: fileSystem,
                                   configuration: .init(limits: limits, clock: ManualClock(), cachedTailBytes: keep))
    }

    @Test func theReleasableRangeIsDurableWholePagesBehindTheTailInSteps() {
        let keep: UInt64 = 1 << 20
        #expect(SegmentLog.releasableRange(releasedSize: 0, durableSize: keep, keep: keep) == nil, "nothing behind the tail")
        #expect(SegmentLog.releasableRange(releasedSize: 0, durableSize: keep + Self.step - 1, keep: keep) == nil, "less than a step")
        #expect(SegmentLog.releasableRange(releasedSize: 0, durableSize: keep + Self.step, keep: keep) == 0..<Self.step)
        // The end is rounded down to a page; the start is where the last release ended.
        let range = SegmentLog.releasableRange(releasedSize: Self.step, durableSize: keep + 2 * Self.step + 4095, keep: keep)
        #expect(range == Self.step..<(2 * Self.step + 4095) & ~4095)
        #expect(SegmentLog.releasableRange(releasedSize: 3 * Self.step, durableSize: keep + 2 * Self.step, keep: keep) == nil, "never backwards")
        // Randomized: every range starts at the released size, ends on a page, at least a step
        // long, and `keep` or more behind the durable end.
        var random = SeededRandom(seed: 7)
        for _ in 0..<2_000 {
            let released = (random.next() % (64 << 20)) & ~4095
            let durable = random.next() % (96 << 20)
            let keep = random.next() % (16 << 20)
            guard let range = SegmentLog.releasableRange(releasedSize: released, durableSize: durable, keep: keep) else { continue }
            #expect(range.lowerBound == released && range.upperBound % 4096 == 0)
            #expect(range.upperBound - range.lowerBound >= Self.step && range.upperBound + keep <= durable)
        }
    }

    /// Through a log: nothing is released before a sync, the releases tile the file from 0 in
    /// page-aligned runs that stay `keep` behind the synced end, and every record still reads.
    @Test func aGrowingLogReleasesWhatIsSyncedAndKeepsTheTail() throws {
        let fileSystem = RecordingFileSystem(SimulatedFileSystem(seed: 3))
        let keep: UInt64 = 256 << 10
        let log = try Self.open(fileSystem, keep: keep)
        // 10 MiB of records, synced every ~1 MiB; nothing released while unsynced.
        var synced: UInt64 = 0
        for round in 0..<10 {
            try appendBatches(log, recordCounts: Array(repeating: 64, count: 16), size: 1000)
            #expect(fileSystem.released.last.map { $0.upperBound + keep <= synced } ?? true, "round \(round): only synced data goes")
            try log.flush()
            synced = log.sizeBytes
            if let last = fileSystem.released.last { #expect(last.upperBound + keep <= synced) }
        }
        let released = fileSystem.released
        #expect(released.count >= 2, "10 MiB with a 4 MiB step: \(released)")
        #expect(released.first?.lowerBound == 0)
        for (earlier, later) in zip(released, released.dropFirst()) { #expect(earlier.upperBound == later.lowerBound, "contiguous, each page once") }
        #expect(released.allSatisfy { $0.lowerBound % 4096 == 0 && $0.upperBound % 4096 == 0 })
        #expect(try readAll(log).allSatisfy { Array($0.value) == payload(for: $0.offset.rawValue, size: 1000) })
        try log.verify()
    }

    /// A file-system sync that covered only part of the log (later appends came after its
    /// point) releases only behind that point.
    @Test func aPartialSyncReleasesOnlyBehindItsPoint() throws {
        let fileSystem = RecordingFileSystem(SimulatedFileSystem(seed: 5))
        let keep: UInt64 = 128 << 10
        let log = try Self.open(fileSystem, keep: keep)
        for _ in 0..<6 { try appendBatches(log, recordCounts: Array(repeating: 64, count: 16), size: 1000) }
        let point = log.syncPoint
        let pointSize = log.sizeBytes
        for _ in 0..<4 { try appendBatches(log, recordCounts: Array(repeating: 64, count: 16), size: 1000) }
        #expect(fileSystem.released.isEmpty, "nothing before a sync")
        #expect(try log.markFlushedByFileSystemSync(through: point))
        let last = try #require(fileSystem.released.last, "about 6 MiB synced: one step")
        #expect(last.upperBound + keep <= pointSize, "behind the point, not the log end (\(log.sizeBytes))")
        try log.markFlushedByFileSystemSync()
        #expect((fileSystem.released.last?.upperBound ?? 0) > last.upperBound || log.sizeBytes - last.upperBound < keep + Self.step)
        #expect(try readAll(log).allSatisfy { Array($0.value) == payload(for: $0.offset.rawValue, size: 1000) })
    }

    @Test func withoutATailBoundNothingIsReleased() throws {
        let fileSystem = RecordingFileSystem(SimulatedFileSystem(seed: 4))
        let log = try Self.open(fileSystem, keep: nil)
        for _ in 0..<10 {
            try appendBatches(log, recordCounts: Array(repeating: 64, count: 16), size: 1000)
            try log.flush()
        }
        #expect(log.sizeBytes > 2 * Self.step && fileSystem.released.isEmpty)
    }

    /// On a real file the hint reaches the kernel (posix_fadvise), and the records read back.
    @Test func onTheRealFileSystemReleasedRecordsStillRead() throws {
        let directory = try FileSystemCalls.makeTemporaryDirectory(prefix: "mom-pagecache-")
        defer { try? FileSystemCalls.removeTree(directory) }
        let fileSystem = RecordingFileSystem(PosixFileSystem())
        let log = try Self.open(fileSystem, directory: directory + "/p0", keep: 64 << 10)
        for _ in 0..<6 {
            try appendBatches(log, recordCounts: Array(repeating: 64, count: 16), size: 1000)
            try log.flush()
        }
        #expect(!fileSystem.released.isEmpty && fileSystem.failures == 0)
        #expect(try readAll(log).allSatisfy { Array($0.value) == payload(for: $0.offset.rawValue, size: 1000) })
        log.close()
    }
}

/// Passes everything through and records the page-cache releases of `.log` files.
final class RecordingFileSystem: FileSystem {
    private let inner: any FileSystem
    fileprivate(set) var released: [Range<UInt64>] = []
    fileprivate(set) var failures = 0

    init(_ inner: any FileSystem) { self.inner = inner }

    func openFile(_ path: String) throws(Errno) -> any StorageFile { wrap(try inner.openFile(path), path) }
    func createFile(_ path: String) throws(Errno) -> any StorageFile { wrap(try inner.createFile(path), path) }
    func listDirectory(_ path: String) throws(Errno) -> [String] { try inner.listDirectory(path) }
    func rename(_ source: String, to destination: String) throws(Errno) { try inner.rename(source, to: destination) }
    func removeFile(_ path: String) throws(Errno) { try inner.removeFile(path) }
    func makeDirectory(_ path: String) throws(Errno) { try inner.makeDirectory(path) }
    func syncDirectory(_ path: String) throws(Errno) { try inner.syncDirectory(path) }
    func exists(_ path: String) -> Bool { inner.exists(path) }

    private func wrap(_ file: any StorageFile, _ path: String) -> any StorageFile {
        path.hasSuffix(".log") ? RecordingFile(file, owner: self) : file
    }

    fileprivate func record(_ range: Range<UInt64>, failed: Bool) {
        released.append(range)
        if failed { failures += 1 }
    }
}

private final class RecordingFile: StorageFile {
    private let inner: any StorageFile
    private unowned let owner: RecordingFileSystem

    init(_ inner: any StorageFile, owner: RecordingFileSystem) {
        self.inner = inner
        self.owner = owner
    }

    func read(fromAbsoluteOffset offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try inner.read(fromAbsoluteOffset: offset, into: buffer)
    }
    func write(toAbsoluteOffset offset: UInt64, _ bytes: UnsafeRawBufferPointer) throws(Errno) { try inner.write(toAbsoluteOffset: offset, bytes) }
    func dataSync() throws(Errno) { try inner.dataSync() }
    func truncate(toSize size: UInt64) throws(Errno) { try inner.truncate(toSize: size) }
    func size() throws(Errno) -> UInt64 { try inner.size() }
    func close() throws(Errno) { try inner.close() }
    func syncHandle() throws(Errno) -> (any FileSyncHandle)? { try inner.syncHandle() }
    func dropCachedPages(offset: UInt64, length: UInt64) throws(Errno) {
        do {
            try inner.dropCachedPages(offset: offset, length: length)
            owner.record(offset..<(offset + length), failed: false)
        } catch {
            owner.record(offset..<(offset + length), failed: true)
            throw error
        }
    }
}
