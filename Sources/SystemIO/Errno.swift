import Glibc

/// A failed system call's errno, with readable names (after apple/swift-system).
/// Environment failures (disk full, peer gone) throw this; programmer errors (EBADF, EFAULT)
/// are preconditions at the call site.
public struct Errno: Error, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// The calling thread's current errno.
    public static var current: Errno { Errno(errno) }

    public static let interrupted = Errno(EINTR)
    public static let ioError = Errno(EIO)
    public static let noSpace = Errno(ENOSPC)
    public static let noEntry = Errno(ENOENT)
    public static let exists = Errno(EEXIST)
    public static let wouldBlock = Errno(EAGAIN)
    public static let inProgress = Errno(EINPROGRESS)
    public static let badFileDescriptor = Errno(EBADF)
    public static let invalidArgument = Errno(EINVAL)
    public static let connectionRefused = Errno(ECONNREFUSED)
    public static let connectionReset = Errno(ECONNRESET)
    public static let brokenPipe = Errno(EPIPE)
    public static let addressInUse = Errno(EADDRINUSE)
    public static let tooManyOpenFiles = Errno(EMFILE)
    public static let notADirectory = Errno(ENOTDIR)
    public static let timedOut = Errno(ETIMEDOUT)

    public var description: String {
        guard let message = strerror(rawValue) else { return "errno \(rawValue)" }
        return "\(String(cString: message)) (errno \(rawValue))"
    }
}

/// Runs a syscall-shaped closure, retrying while it fails with EINTR, and throws its errno.
/// This is the one place where syscalls turn into Swift errors (STYLE.md habit 7).
@inlinable
public func syscall<R: BinaryInteger>(_ body: () -> R) throws(Errno) -> R {
    while true {
        let result = body()
        if result >= 0 { return result }
        let failure = Errno.current
        if failure == .interrupted { continue }
        throw failure
    }
}

/// For syscalls that return an error number directly instead of setting errno
/// (posix_fallocate, pthread functions). Retries EINTR likewise.
@inlinable
public func syscallReturningErrno(_ body: () -> Int32) throws(Errno) {
    while true {
        let code = body()
        if code == 0 { return }
        if code == EINTR { continue }
        throw Errno(code)
    }
}
