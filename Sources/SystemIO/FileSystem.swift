/// The file system edge of storage (STYLE.md habit 3): SegmentLog and AtomicFile talk to this
/// protocol, production plugs in `PosixFileSystem`, and tests plug in `SimulatedFileSystem`,
/// which loses unsynced writes at a crash and injects I/O errors from a seed.
///
/// Paths are plain strings; a directory's entries become durable only after `syncDirectory`.
public protocol FileSystem: AnyObject {
    /// Opens an existing file for reading and writing.
    func openFile(_ path: String) throws(Errno) -> any StorageFile
    /// Creates a new, empty file for reading and writing; fails with `Errno.exists` if the name is taken.
    func createFile(_ path: String) throws(Errno) -> any StorageFile
    /// The names in a directory (not "." or ".."), in no particular order.
    func listDirectory(_ path: String) throws(Errno) -> [String]
    /// Atomically replaces `destination` with `source`.
    func rename(_ source: String, to destination: String) throws(Errno)
    /// Removes a file name.
    func removeFile(_ path: String) throws(Errno)
    /// Creates a directory; fails with `Errno.exists` if it exists.
    func makeDirectory(_ path: String) throws(Errno)
    /// Makes creations, renames and removals inside `path` durable.
    func syncDirectory(_ path: String) throws(Errno)
    /// Whether `path` names a file or directory.
    func exists(_ path: String) -> Bool
}

/// An open file, owned by one user at a time; `close()` exactly once.
public protocol StorageFile: AnyObject {
    /// Reads until `buffer` is full or end of file; returns the number of bytes read.
    func read(fromAbsoluteOffset offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int
    /// Writes all of `bytes` at `offset`.
    func write(toAbsoluteOffset offset: UInt64, _ bytes: UnsafeRawBufferPointer) throws(Errno)
    /// Makes every write so far durable (fdatasync).
    func dataSync() throws(Errno)
    /// Sets the file's length.
    func truncate(toSize size: UInt64) throws(Errno)
    /// The file's current length in bytes.
    func size() throws(Errno) -> UInt64
    /// Releases the handle.
    func close() throws(Errno)
    /// A descriptor of its own to fdatasync this file from another thread, or nil when the
    /// file cannot give one (a simulated file: the caller then syncs otherwise).
    func syncHandle() throws(Errno) -> (any FileSyncHandle)?
    /// Frees the cached pages of `[offset, offset + length)` that are clean; a hint, so a file
    /// without a page cache (a simulated one) ignores it.
    func dropCachedPages(offset: UInt64, length: UInt64) throws(Errno)
}

extension StorageFile {
    public func syncHandle() throws(Errno) -> (any FileSyncHandle)? { nil }
    public func dropCachedPages(offset: UInt64, length: UInt64) throws(Errno) {}

    /// Reads exactly `count` bytes at `offset` into a new array, or throws `Errno.ioError`
    /// if the file ends first (callers check the file size before asking).
    public func readBytes(fromAbsoluteOffset offset: UInt64, count: Int) throws(Errno) -> [UInt8] {
        var read = 0
        var failure: Errno?
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            do throws(Errno) {
                read = try self.read(fromAbsoluteOffset: offset, into: UnsafeMutableRawBufferPointer(buffer))
            } catch {
                failure = error
            }
            initialized = failure == nil ? read : 0
        }
        if let failure { throw failure }
        if read < count { throw Errno.ioError }
        return bytes
    }

    /// Writes a byte array at `offset`.
    public func write(toAbsoluteOffset offset: UInt64, _ bytes: [UInt8]) throws(Errno) {
        var failure: Errno?
        bytes.withUnsafeBytes { raw in
            do throws(Errno) { try write(toAbsoluteOffset: offset, raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }
}
