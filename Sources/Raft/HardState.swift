import MOMCore

/// The state a node must persist (and fdatasync) before it sends any message that depends on it:
/// the term it is in, whom it voted for in that term, and how far it knows the log is committed.
public struct HardState: Equatable, Sendable {
    /// The latest term this node has seen.
    public var term: Term
    /// The candidate voted for in `term`; forgetting it could allow two votes in one term.
    public var vote: NodeID?
    /// The highest index known committed; losing it is safe (it is relearned).
    public var commit: LogIndex

    /// A state as read back from storage.
    public init(term: Term = .zero, vote: NodeID? = nil, commit: LogIndex = .zero) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }

    /// A fresh node's state: persisting it is not needed.
    public static let empty = HardState()
    /// A state not worth persisting.
    public var isEmpty: Bool { self == .empty }
}
