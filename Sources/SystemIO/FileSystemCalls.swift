import Glibc

/// Path-level file system calls: the directory half of the syscalls SegmentLog needs.
public enum FileSystemCalls {
    /// Atomically replaces `destination` with `source` (rename(2)).
    public static func rename(_ source: String, to destination: String) throws(Errno) {
        _ = try syscall { Glibc.rename(source, destination) }
    }

    /// Removes a file name (unlink(2)).
    public static func unlink(_ path: String) throws(Errno) {
        _ = try syscall { Glibc.unlink(path) }
    }

    /// Creates a directory (mkdir(2)).
    public static func makeDirectory(_ path: String, permissions: UInt32 = 0o755) throws(Errno) {
        _ = try syscall { Glibc.mkdir(path, mode_t(permissions)) }
    }

    /// Removes an empty directory (rmdir(2)).
    public static func removeDirectory(_ path: String) throws(Errno) {
        _ = try syscall { Glibc.rmdir(path) }
    }

    /// The size of the file at `path`, or throws `Errno.noEntry`.
    public static func fileSize(_ path: String) throws(Errno) -> UInt64 {
        let file = try FileDescriptor.open(path, .readOnly)
        defer { try? file.close() }
        return try file.size()
    }

    /// Whether a name exists at `path` (any file type).
    public static func exists(_ path: String) -> Bool {
        access(path, F_OK) == 0
    }

    /// The names in a directory, without "." and "..", in no particular order.
    public static func listDirectory(_ path: String) throws(Errno) -> [String] {
        guard let stream = opendir(path) else { throw Errno.current }
        defer { closedir(stream) }
        var names: [String] = []
        // Bounded by the directory's size: readdir returns nil at its end.
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw Errno.current }
                return names
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
    }

    /// fsyncs a directory so that creations, renames and removals inside it are durable.
    public static func syncDirectory(_ path: String) throws(Errno) {
        let directory = try FileDescriptor.open(path, [.readOnly, .directory])
        defer { try? directory.close() }
        try directory.sync()
    }

    /// Creates a fresh, empty directory under `parent` with a unique name (mkdtemp(3)).
    public static func makeTemporaryDirectory(in parent: String = "/tmp", prefix: String) throws(Errno) -> String {
        var template = Array("\(parent)/\(prefix)XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        guard made != nil else { throw Errno.current }
        return template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Removes a directory tree that MOM created (tests, the benchmark's temp dir).
    /// Only regular files and directories are expected; depth is bounded by `depthMax`.
    public static func removeTree(_ path: String, depthMax: Int = 16) throws(Errno) {
        precondition(depthMax > 0, "removeTree: directory tree deeper than expected")
        for name in try listDirectory(path) {
            let child = "\(path)/\(name)"
            var status = stat()
            _ = try syscall { lstat(child, &status) }
            if (status.st_mode & S_IFMT) == S_IFDIR {
                try removeTree(child, depthMax: depthMax - 1)
            } else {
                try unlink(child)
            }
        }
        try removeDirectory(path)
    }
}
