import MOMCore

/// Why the node refused a request. These are operating conditions, not bugs: callers retry,
/// redirect to `leader`, or report them.
public enum RaftError: Error, Equatable, Sendable {
    /// Only the leader accepts proposals; `leader` is the one this node knows of, if any.
    case notLeader(leader: NodeID?)
    /// The leader is handing over leadership, or is no longer a member.
    case proposalDropped
    /// Too many proposed bytes are not yet committed; retry once the log catches up.
    case uncommittedLimit
    /// A configuration change is still pending, or this term's no-op is not yet committed.
    case configChangePending
    /// The change makes no sense for the current configuration (explained in the text).
    case configChangeInvalid(String)
    /// A message from a node outside the configuration (e.g. a removed node's late reply).
    case unknownPeer(NodeID)
    /// A message addressed to another node.
    case wrongRecipient(NodeID)
    /// A message that no correct peer sends (e.g. a term-less append, or one from ourselves).
    case malformedMessage(String)
}

/// Why storage could not serve a read. `.compacted` and `.unavailable` are expected and handled
/// (send a snapshot, retry later); other failures are fatal to the node.
public enum RaftStorageError: Error, Equatable, Sendable {
    /// The index is below the first index: the entry now lives only in a snapshot.
    case compacted
    /// The index is beyond the last index.
    case unavailable
    /// The snapshot given is older than the one already held.
    case snapshotOutOfDate
    /// A snapshot is being produced; ask again later.
    case snapshotTemporarilyUnavailable
}
