import MOMCore
import SystemIO

/// Why a segment log operation failed. I/O failures name the file; a log that hit a write or
/// sync failure stays failed (`.failed`) until it is reopened, because after a failed fsync the
/// kernel may have dropped the dirty pages and only recovery knows what is really on disk.
public enum SegmentLogError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed on `path`.
    case io(Errno, path: String)
    /// An earlier write or sync failed; reopen the log to recover.
    case failed(Errno)
    /// The requested offset is outside `[logStart, logEnd]`.
    case offsetOutOfRange(requested: Offset, logStart: Offset, logEnd: Offset)
    /// A batch read back from disk failed validation.
    case corruptBatch(path: String, position: UInt64, BatchError)
    /// A batch handed to `append` breaks a limit or does not follow the log end.
    case invalidBatch(BatchError)
    /// A file the log needs is malformed (index, swap record).
    case corruptFile(path: String, reason: String)

    public var description: String {
        switch self {
        case .io(let error, let path): return "I/O error on \(path): \(error)"
        case .failed(let error): return "the log failed earlier (\(error)); reopen it to recover"
        case .offsetOutOfRange(let requested, let start, let end):
            return "offset \(requested) is outside the log [\(start), \(end)]"
        case .corruptBatch(let path, let position, let reason): return "corrupt batch in \(path) at byte \(position): \(reason)"
        case .invalidBatch(let reason): return "invalid batch: \(reason)"
        case .corruptFile(let path, let reason): return "corrupt file \(path): \(reason)"
        }
    }
}
