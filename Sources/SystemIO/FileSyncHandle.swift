import CEpoll
import Glibc

/// One file's own descriptor, made so that another thread can fdatasync the file while its
/// owner goes on writing it (asynchronous storage writes). It is a dup(2) of the owner's
/// descriptor: closing the owner's (a deleted segment) leaves it valid, and fdatasync through
/// it covers every write made through either before the call.
public protocol FileSyncHandle: AnyObject, Sendable {
    /// The file (device and inode): handles of one file share it, so one fdatasync serves them.
    func identity() throws(Errno) -> FileIdentity
    /// fdatasync(2) of the file.
    func dataSync() throws(Errno)
    /// Releases the descriptor; call exactly once.
    func close()
}

/// A file's device and inode numbers.
public struct FileIdentity: Hashable, Sendable {
    public let device: UInt64
    public let inode: UInt64

    public init(device: UInt64, inode: UInt64) {
        self.device = device
        self.inode = inode
    }
}

/// A dup(2) of a real file's descriptor.
public final class PosixFileSyncHandle: FileSyncHandle, @unchecked Sendable {
    // Set once at init; used by one thread at a time (the sync thread after the hand-off).
    private let descriptor: FileDescriptor

    public init(duplicating original: FileDescriptor) throws(Errno) {
        let raw = try syscall { fcntl(original.rawValue, F_DUPFD_CLOEXEC, 0) }
        descriptor = FileDescriptor(rawValue: raw)
    }

    public func identity() throws(Errno) -> FileIdentity {
        var status = stat()
        _ = try syscall { fstat(descriptor.rawValue, &status) }
        return FileIdentity(device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
    }

    public func dataSync() throws(Errno) { try descriptor.dataSync() }

    public func close() { try? descriptor.close() }
}
