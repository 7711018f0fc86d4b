import MOMCore
import SystemIO

/// A `FileSystem` that times every fdatasync into a histogram and otherwise passes through:
/// the disk's sync latency bounds produce latency (a write is acked only after a majority
/// synced), so operators need to see it. Wrapping keeps SystemIO free of metrics.
final class MeasuredFileSystem: FileSystem {
    private let inner: any FileSystem
    private let histogram: LatencyHistogram
    private let clock: any Clock

    init(_ inner: any FileSystem, syncLatency histogram: LatencyHistogram, clock: any Clock) {
        self.inner = inner
        self.histogram = histogram
        self.clock = clock
    }

    func openFile(_ path: String) throws(Errno) -> any StorageFile {
        MeasuredFile(try inner.openFile(path), histogram: histogram, clock: clock)
    }

    func createFile(_ path: String) throws(Errno) -> any StorageFile {
        MeasuredFile(try inner.createFile(path), histogram: histogram, clock: clock)
    }

    func listDirectory(_ path: String) throws(Errno) -> [String] { try inner.listDirectory(path) }
    func rename(_ source: String, to destination: String) throws(Errno) { try inner.rename(source, to: destination) }
    func removeFile(_ path: String) throws(Errno) { try inner.removeFile(path) }
    func makeDirectory(_ path: String) throws(Errno) { try inner.makeDirectory(path) }
    func syncDirectory(_ path: String) throws(Errno) { try inner.syncDirectory(path) }
    func exists(_ path: String) -> Bool { inner.exists(path) }
}

/// A file whose `dataSync` is timed; everything else passes through.
final class MeasuredFile: StorageFile {
    private let inner: any StorageFile
    private let histogram: LatencyHistogram
    private let clock: any Clock

    init(_ inner: any StorageFile, histogram: LatencyHistogram, clock: any Clock) {
        self.inner = inner
        self.histogram = histogram
        self.clock = clock
    }

    func dataSync() throws(Errno) { try histogram.time(clock) { () throws(Errno) in try inner.dataSync() } }

    func read(fromAbsoluteOffset offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try inner.read(fromAbsoluteOffset: offset, into: buffer)
    }

    func write(toAbsoluteOffset offset: UInt64, _ bytes: UnsafeRawBufferPointer) throws(Errno) {
        try inner.write(toAbsoluteOffset: offset, bytes)
    }

    func truncate(toSize size: UInt64) throws(Errno) { try inner.truncate(toSize: size) }
    func size() throws(Errno) -> UInt64 { try inner.size() }
    func close() throws(Errno) { try inner.close() }
    func dropCachedPages(offset: UInt64, length: UInt64) throws(Errno) { try inner.dropCachedPages(offset: offset, length: length) }

    func syncHandle() throws(Errno) -> (any FileSyncHandle)? {
        try inner.syncHandle().map { MeasuredFileSyncHandle($0, histogram: histogram, clock: clock) }
    }
}

/// A sync handle whose `dataSync` is timed like the file's own.
final class MeasuredFileSyncHandle: FileSyncHandle, @unchecked Sendable {
    private let inner: any FileSyncHandle
    private let histogram: LatencyHistogram
    private let clock: any Clock

    init(_ inner: any FileSyncHandle, histogram: LatencyHistogram, clock: any Clock) {
        self.inner = inner
        self.histogram = histogram
        self.clock = clock
    }

    func identity() throws(Errno) -> FileIdentity { try inner.identity() }
    func dataSync() throws(Errno) { try histogram.time(clock) { () throws(Errno) in try inner.dataSync() } }
    func close() { inner.close() }
}

/// A whole-file-system sync (syncfs) timed into the same histogram as fdatasync: it is what
/// bounds produce latency when one sync covers every dirty log of a pass.
final class MeasuredFileSystemSync: FileSystemSync, @unchecked Sendable {
    private let inner: any FileSystemSync
    private let histogram: LatencyHistogram
    private let clock: any Clock

    init(_ inner: any FileSystemSync, syncLatency histogram: LatencyHistogram, clock: any Clock) {
        self.inner = inner
        self.histogram = histogram
        self.clock = clock
    }

    func sync() throws(Errno) { try histogram.time(clock) { () throws(Errno) in try inner.sync() } }

    func covers(_ path: String) -> Bool { inner.covers(path) }
}

extension LatencyHistogram {
    /// Runs `body` and records how long it took, whether it returns or throws.
    func time(_ clock: any Clock, _ body: () throws(Errno) -> Void) throws(Errno) {
        let start = clock.monotonicNanoseconds()
        defer {
            let end = clock.monotonicNanoseconds()
            observe(nanoseconds: end >= start ? end - start : 0)
        }
        try body()
    }
}
