import CEpoll
import Glibc

/// One call that makes every write so far to every file of one file system durable: the group
/// commit of many logs with a single sync, instead of one fdatasync per log.
///
/// The real one is syncfs(2) on a directory descriptor opened once and kept open: since Linux
/// 5.8 syncfs reports a writeback error that happened anywhere on the file system since the
/// descriptor was opened (or since its previous report), so a descriptor opened per call could
/// miss an error from before it was opened. It also flushes unrelated dirty data on the same
/// file system, which is why a data directory belongs on a file system of its own.
public protocol FileSystemSync: AnyObject, Sendable {
    /// Makes every write completed before the call durable, on every file of the file system.
    func sync() throws(Errno)
    /// Whether `path` lies on the file system this sync covers (a log on another mount would
    /// be acked without being synced, so its opener refuses it).
    func covers(_ path: String) -> Bool
}

/// syncfs(2) on the file system holding `directory`.
public final class PosixFileSystemSync: FileSystemSync, @unchecked Sendable {
    // Immutable after init and syncfs is thread-safe, so sharing across threads is safe.
    private let directory: FileDescriptor

    public init(directory path: String) throws(Errno) {
        directory = try FileDescriptor.open(path, [.readOnly, .directory])
    }

    public func sync() throws(Errno) { _ = try syscall { syncfs(directory.rawValue) } }

    public func covers(_ path: String) -> Bool {
        var own = stat()
        var other = stat()
        guard fstat(directory.rawValue, &own) == 0, stat(path, &other) == 0 else { return false }
        return own.st_dev == other.st_dev
    }

    deinit { try? directory.close() }
}

extension PosixFileSystem {
    /// The whole-file-system sync for the file system holding `path`.
    public func fileSystemSync(for path: String) throws(Errno) -> any FileSystemSync {
        try PosixFileSystemSync(directory: path)
    }
}

/// The simulated file system's whole-file-system sync. Single-threaded like the file system.
public final class SimulatedFileSystemSync: FileSystemSync, @unchecked Sendable {
    private let fileSystem: SimulatedFileSystem

    public init(_ fileSystem: SimulatedFileSystem) { self.fileSystem = fileSystem }

    public func sync() throws(Errno) { try fileSystem.syncEverything() }

    /// One simulated file system holds every path.
    public func covers(_ path: String) -> Bool { true }
}
