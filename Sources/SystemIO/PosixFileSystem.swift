/// The real file system: thin forwarding to `FileDescriptor` and `FileSystemCalls`.
public final class PosixFileSystem: FileSystem, @unchecked Sendable {
    // Stateless: every call is a syscall, so sharing one instance across threads is safe.
    public init() {}

    public func openFile(_ path: String) throws(Errno) -> any StorageFile {
        PosixFile(descriptor: try FileDescriptor.open(path, .readWrite))
    }

    public func createFile(_ path: String) throws(Errno) -> any StorageFile {
        PosixFile(descriptor: try FileDescriptor.open(path, [.readWrite, .create, .exclusive]))
    }

    public func listDirectory(_ path: String) throws(Errno) -> [String] {
        try FileSystemCalls.listDirectory(path)
    }

    public func rename(_ source: String, to destination: String) throws(Errno) {
        try FileSystemCalls.rename(source, to: destination)
    }

    public func removeFile(_ path: String) throws(Errno) { try FileSystemCalls.unlink(path) }

    public func makeDirectory(_ path: String) throws(Errno) { try FileSystemCalls.makeDirectory(path) }

    public func syncDirectory(_ path: String) throws(Errno) { try FileSystemCalls.syncDirectory(path) }

    public func exists(_ path: String) -> Bool { FileSystemCalls.exists(path) }
}

/// A real open file.
public final class PosixFile: StorageFile {
    /// The underlying descriptor, for callers that need a raw fd (zero-copy sendfile later).
    public let descriptor: FileDescriptor

    public init(descriptor: FileDescriptor) { self.descriptor = descriptor }

    public func read(fromAbsoluteOffset offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try descriptor.read(fromAbsoluteOffset: offset, into: buffer)
    }

    public func write(toAbsoluteOffset offset: UInt64, _ bytes: UnsafeRawBufferPointer) throws(Errno) {
        try descriptor.write(toAbsoluteOffset: offset, bytes)
    }

    public func dataSync() throws(Errno) { try descriptor.dataSync() }

    public func truncate(toSize size: UInt64) throws(Errno) { try descriptor.truncate(toSize: size) }

    public func size() throws(Errno) -> UInt64 { try descriptor.size() }

    public func close() throws(Errno) { try descriptor.close() }

    public func syncHandle() throws(Errno) -> (any FileSyncHandle)? { try PosixFileSyncHandle(duplicating: descriptor) }

    public func dropCachedPages(offset: UInt64, length: UInt64) throws(Errno) {
        try descriptor.dropCachedPages(offset: offset, length: length)
    }
}
