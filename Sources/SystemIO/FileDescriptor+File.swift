import CEpoll
import Glibc

/// How a file is opened. Every descriptor MOM opens is close-on-exec so that a child process
/// (mom-bench's kill test, a future helper) never inherits segment files.
public struct OpenFlags: OptionSet, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let readOnly = OpenFlags([])
    public static let readWrite = OpenFlags(rawValue: O_RDWR)
    public static let create = OpenFlags(rawValue: O_CREAT)
    public static let exclusive = OpenFlags(rawValue: O_EXCL)
    public static let truncate = OpenFlags(rawValue: O_TRUNC)
    public static let directory = OpenFlags(rawValue: O_DIRECTORY)
}

/// File operations on a descriptor, named after swift-system (`read(fromAbsoluteOffset:into:)`).
/// Every call goes through `syscall { }`, so EINTR is retried and failures throw `Errno`.
extension FileDescriptor {
    /// Opens `path`; O_CLOEXEC is always added.
    public static func open(
        _ path: String, _ flags: OpenFlags, permissions: UInt32 = 0o644
    ) throws(Errno) -> FileDescriptor {
        let raw = try syscall { Glibc.open(path, flags.rawValue | O_CLOEXEC, mode_t(permissions)) }
        return FileDescriptor(rawValue: raw)
    }

    /// Reads until `buffer` is full or end of file, looping over short reads.
    /// Returns the number of bytes read (less than `buffer.count` only at end of file).
    public func read(
        fromAbsoluteOffset offset: UInt64, into buffer: UnsafeMutableRawBufferPointer
    ) throws(Errno) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var done = 0
        while done < buffer.count {
            let count = try syscall {
                pread(rawValue, base + done, buffer.count - done, off_t(offset) + off_t(done))
            }
            if count == 0 { break }
            done += count
        }
        return done
    }

    /// Writes all of `bytes` at `offset`, looping over short writes.
    public func write(toAbsoluteOffset offset: UInt64, _ bytes: UnsafeRawBufferPointer) throws(Errno) {
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            let count = try syscall {
                pwrite(rawValue, base + done, bytes.count - done, off_t(offset) + off_t(done))
            }
            // pwrite returning 0 for a non-empty request means no progress is possible.
            if count == 0 { throw Errno.ioError }
            done += count
        }
    }

    /// Flushes file data (and the size, when it changed) to stable storage.
    public func dataSync() throws(Errno) { _ = try syscall { fdatasync(rawValue) } }

    /// Flushes data and all metadata. On a directory descriptor this makes entries durable.
    public func sync() throws(Errno) { _ = try syscall { fsync(rawValue) } }

    /// Sets the file length, dropping or zero-extending its tail.
    public func truncate(toSize size: UInt64) throws(Errno) {
        _ = try syscall { ftruncate(rawValue, off_t(size)) }
    }

    /// Tells the kernel that `[offset, offset + length)` will not be read soon: its clean cached
    /// pages are freed now rather than at memory pressure (`POSIX_FADV_DONTNEED`).
    public func dropCachedPages(offset: UInt64, length: UInt64) throws(Errno) {
        // posix_fadvise returns the error number instead of setting errno.
        let result = posix_fadvise(rawValue, off_t(offset), off_t(length), POSIX_FADV_DONTNEED)
        if result != 0 { throw Errno(result) }
    }

    /// Reserves disk blocks for `[offset, offset + length)` so later writes cannot hit ENOSPC.
    public func allocate(offset: UInt64, length: UInt64) throws(Errno) {
        _ = try syscall { fallocate(rawValue, 0, off_t(offset), off_t(length)) }
    }

    /// The file's current length in bytes.
    public func size() throws(Errno) -> UInt64 {
        var status = stat()
        _ = try syscall { fstat(rawValue, &status) }
        return UInt64(status.st_size)
    }
}
