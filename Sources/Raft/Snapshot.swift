import MOMCore

/// Where a snapshot sits in the log, and the membership in force at that point.
public struct SnapshotMetadata: Equatable, Sendable {
    public var index: LogIndex
    public var term: Term
    public var configuration: Configuration

    public init(index: LogIndex = .zero, term: Term = .zero, configuration: Configuration = Configuration()) {
        self.index = index
        self.term = term
        self.configuration = configuration
    }
}

/// The state machine's image at `metadata.index`. The log starts after it: a follower that is
/// too far behind the leader's log start receives one instead of entries.
public struct Snapshot: Equatable, Sendable {
    public var metadata: SnapshotMetadata
    public var data: [UInt8]

    public init(metadata: SnapshotMetadata = SnapshotMetadata(), data: [UInt8] = []) {
        self.metadata = metadata
        self.data = data
    }

    /// Index zero means "no snapshot".
    public var isEmpty: Bool { metadata.index == .zero }
}
