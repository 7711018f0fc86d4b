import Glibc

/// Readable text for an errno value, for error messages.
enum ErrnoText {
    static func describe(_ code: Int32) -> String {
        "\(String(cString: strerror(code))) (errno \(code))"
    }
}

/// Makes sure the users database is a regular file readable by its owner only (mode 0600) before
/// SQLite touches it.
///
/// SQLite would create a missing file with 0644 (less the umask), leaving password hashes readable
/// by every local user for a moment or for good. So the file is created here with
/// `open(O_CREAT, 0600)`, an existing file with looser bits is tightened with `fchmod`, and
/// symbolic links are refused (`O_NOFOLLOW`) so a planted link cannot redirect the writes. SQLite
/// gives its rollback journal the database file's mode, so the journal is private too; a journal
/// left behind by a crash is checked here before SQLite can replay it.
struct DatabaseFile {
    /// Identifies the file that was checked, so the store can confirm SQLite opened the same one.
    struct Identity: Equatable {
        var device: UInt64
        var inode: UInt64
    }

    /// The files SQLite may put beside the database.
    static let sidecarSuffixes = ["-journal", "-wal", "-shm"]

    /// The file's identity after the checks.
    let identity: Identity
    /// The permission bits the file had when they were not 0600 and were repaired, else nil.
    let repairedMode: UInt32?

    /// Opens (or creates) `path` with mode 0600, repairs a looser mode, and closes it again.
    ///
    /// The descriptor is closed before SQLite opens the file on purpose: closing any descriptor of
    /// a file drops every POSIX lock the process holds on it, so it must not stay open beside
    /// SQLite's own.
    init(path: String, createIfMissing: Bool) throws(UserStoreError) {
        var flags = O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY
        if createIfMissing { flags |= O_CREAT }
        let descriptor = Self.retryingInterrupts { open(path, flags, mode_t(0o600)) }
        if descriptor < 0 {
            let code = errno
            if code == ENOENT && !createIfMissing { throw .databaseMissing(path: path) }
            if code == ELOOP {
                throw .insecureFile(path: path, reason: "it is a symbolic link; point --users-db at the real file")
            }
            throw .fileSystem(path: path, operation: "open", errno: code)
        }
        defer { _ = close(descriptor) }
        let (identity, repairedMode) = try Self.makePrivate(descriptor: descriptor, path: path)
        self.identity = identity
        self.repairedMode = repairedMode
        for suffix in Self.sidecarSuffixes {
            try Self.securePrivateSidecar(path: path + suffix)
        }
    }

    /// Confirms `path` still names the file that was checked (not swapped for another or a link).
    static func confirm(path: String, is identity: Identity) throws(UserStoreError) {
        var status = stat()
        if lstat(path, &status) != 0 {
            throw .fileSystem(path: path, operation: "lstat", errno: errno)
        }
        let current = Identity(device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
        if (status.st_mode & S_IFMT) != S_IFREG || current != identity {
            throw .insecureFile(path: path, reason: "the file was replaced while it was being opened")
        }
    }

    /// The permission bits of `path`, for checks and tests.
    static func permissionBits(path: String) throws(UserStoreError) -> UInt32 {
        var status = stat()
        if lstat(path, &status) != 0 {
            throw .fileSystem(path: path, operation: "lstat", errno: errno)
        }
        return UInt32(status.st_mode & 0o7777)
    }

    private static func makePrivate(
        descriptor: Int32, path: String
    ) throws(UserStoreError) -> (Identity, UInt32?) {
        var status = stat()
        if fstat(descriptor, &status) != 0 {
            throw .fileSystem(path: path, operation: "fstat", errno: errno)
        }
        if (status.st_mode & S_IFMT) != S_IFREG {
            throw .insecureFile(path: path, reason: "it is not a regular file")
        }
        let identity = Identity(device: UInt64(status.st_dev), inode: UInt64(status.st_ino))
        let mode = UInt32(status.st_mode & 0o7777)
        if mode == 0o600 { return (identity, nil) }
        if fchmod(descriptor, mode_t(0o600)) != 0 {
            let code = errno
            throw .insecureFile(
                path: path,
                reason: "it has mode 0\(String(mode, radix: 8)) and changing it to 0600 failed ("
                    + "\(ErrnoText.describe(code))); run 'chmod 600' on it as its owner")
        }
        return (identity, mode)
    }

    /// A journal left by a crash is replayed by SQLite, so it must be as private as the database.
    private static func securePrivateSidecar(path: String) throws(UserStoreError) {
        var status = stat()
        if lstat(path, &status) != 0 {
            if errno == ENOENT { return }
            throw .fileSystem(path: path, operation: "lstat", errno: errno)
        }
        if (status.st_mode & S_IFMT) != S_IFREG {
            throw .insecureFile(path: path, reason: "it is not a regular file; remove it")
        }
        if (status.st_mode & 0o077) == 0 { return }
        let descriptor = retryingInterrupts { open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY) }
        if descriptor < 0 {
            throw .fileSystem(path: path, operation: "open", errno: errno)
        }
        defer { _ = close(descriptor) }
        if fchmod(descriptor, mode_t(0o600)) != 0 {
            throw .insecureFile(path: path, reason: "it is readable by others and 'chmod 600' failed")
        }
    }

    private static func retryingInterrupts(_ call: () -> Int32) -> Int32 {
        // Bounded: a signal storm cannot spin here forever.
        for _ in 0..<1000 {
            let result = call()
            if result >= 0 || errno != EINTR { return result }
        }
        return -1
    }
}
