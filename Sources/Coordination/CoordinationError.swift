import MOMCore

/// Everything a coordinator operation can fail with. Callers switch on the case: `conflict` means
/// re-read and retry, `unavailable` means back off (reads may still be served stale), the rest are
/// bugs or bad data to report.
public enum CoordinationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// A compare-and-set lost: the record is no longer at `expectedVersion`. Re-read, re-decide.
    case conflict(group: GroupID, expectedVersion: MembershipVersion)
    /// The record does not exist.
    case notFound(CoordinationResource)
    /// The record exists already (a create lost, or a node ID is registered by another session).
    case alreadyExists(CoordinationResource)
    /// The store cannot be reached, and there is no last known state to serve instead. For a
    /// write this also means "outcome unknown": re-read before retrying.
    case unavailable(reason: String)
    /// The caller passed something the store must not hold.
    case invalidArgument(reason: String)
    /// A stored record cannot be decoded; someone else wrote it, or it is corrupt.
    case invalidData(path: String, reason: String)
    /// The coordinator was closed.
    case closed

    public var description: String {
        switch self {
        case .conflict(let group, let expectedVersion):
            "group \(group.rawValue) changed since \(expectedVersion); re-read its membership and retry"
        case .notFound(let resource):
            "\(resource) does not exist"
        case .alreadyExists(let resource):
            "\(resource) already exists"
        case .unavailable(let reason):
            "coordination store unavailable: \(reason)"
        case .invalidArgument(let reason):
            "invalid argument: \(reason)"
        case .invalidData(let path, let reason):
            "cannot decode \(path): \(reason)"
        case .closed:
            "the coordinator is closed"
        }
    }
}
