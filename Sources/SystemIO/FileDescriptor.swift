import Glibc

/// An open file descriptor. A plain value: the owner closes it exactly once.
public struct FileDescriptor: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) {
        precondition(rawValue >= 0, "negative file descriptor")
        self.rawValue = rawValue
    }

    /// Closes the descriptor. EINTR on close is not retried: on Linux the descriptor is
    /// already released, and retrying could close a descriptor another thread just opened.
    public func close() throws(Errno) {
        if Glibc.close(rawValue) < 0 {
            let failure = Errno.current
            if failure == .interrupted { return }
            // EBADF means a second close. The number may already belong to another open file by
            // then, and that close would have shut someone else's socket: a bug to find in tests.
            assert(failure != .badFileDescriptor, "close of \(self), which is not open: a double close")
            throw failure
        }
    }

    public var description: String { "fd\(rawValue)" }
}
