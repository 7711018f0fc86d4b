import MOMCore

/// The stable (synced) part of the log and the latest snapshot, as the application stores them.
/// Raft reads through this protocol and never writes: the application writes what each Ready
/// tells it to. Reads may throw `RaftStorageError.compacted` / `.unavailable`; any other error
/// means the disk failed, and the node stops.
public protocol RaftStorage: AnyObject {
    /// The persisted HardState, and the configuration as of the applied index the node restarts at
    /// (normally the latest snapshot's configuration).
    func initialState() throws -> (HardState, Configuration)
    /// Entries in [from, to), at most `maxBytes` in total but at least one entry if any exist.
    func entries(from: LogIndex, to: LogIndex, maxBytes: Int) throws -> [Entry]
    /// The term of the entry at `index`. Valid for [firstIndex - 1, lastIndex]: the term at
    /// firstIndex - 1 is the snapshot's term.
    func term(at index: LogIndex) throws -> Term
    /// The first index still available as an entry (snapshot index + 1).
    func firstIndex() throws -> LogIndex
    /// The last index stored; firstIndex - 1 when the log is empty.
    func lastIndex() throws -> LogIndex
    /// The most recent snapshot, which a leader sends to a follower that is too far behind.
    func snapshot() throws -> Snapshot
}
