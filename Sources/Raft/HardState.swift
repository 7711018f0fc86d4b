import MOMCore

/// The state a node must persist (and fdatasync) before it sends any message that depends on it:
/// the term it is in, whom it voted for in that term, and how far it knows the log is committed.
public struct HardState: Equatable, Sendable {
    public var term: Term
    public var vote: NodeID?
    public var commit: LogIndex

    public init(term: Term = .zero, vote: NodeID? = nil, commit: LogIndex = .zero) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }

    /// A fresh node's state: persisting it is not needed.
    public static let empty = HardState()
    public var isEmpty: Bool { self == .empty }
}
