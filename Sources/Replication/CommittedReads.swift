import MOMCore
import Raft

/// A page of committed entries, with the bounds a reader needs to continue or to report 416.
public struct CommittedPage: Sendable {
    public var entries: [Entry]
    /// The group's commit index when the page was read: the high watermark is its offset + 1.
    public var commit: LogIndex
    /// The first index still in the log (older ones were removed by retention).
    public var firstIndex: LogIndex
    /// The last index stored here, committed or not (the log end offset).
    public var lastIndex: LogIndex
    /// Whether this replica led the group when the page was read: only a leader knows that an
    /// index past its log end is past every committed one (Leader Completeness, Raft §5.4).
    public var readOnLeader: Bool
    /// This replica's term when the page was read: with `readOnLeader`, tells whether it still
    /// leads in the term a `confirmLeadership` round confirmed.
    public var term: Term
}

extension ReplicationHost {
    /// Reads committed entries from `index` on (at most `maxEntries` and about `maxBytes`), on the
    /// loop thread, and hands them to `completion` there. Followers serve committed data too:
    /// anything at or below their commit index is final.
    public func readCommitted(
        _ group: GroupID, from index: LogIndex, maxEntries: Int, maxBytes: Int,
        completion: @escaping @Sendable (Result<CommittedPage, ReplicationError>) -> Void
    ) {
        let posted = onLoop { host in completion(host.readCommittedOnLoop(group, from: index, maxEntries: maxEntries, maxBytes: maxBytes)) }
        if !posted { completion(.failure(.overloaded)) }
    }

    func readCommittedOnLoop(_ groupID: GroupID, from index: LogIndex, maxEntries: Int, maxBytes: Int) -> Result<CommittedPage, ReplicationError> {
        guard let group = groups[groupID] else { return .failure(.unknownGroup(groupID)) }
        let status = group.node.status
        let commit = min(status.hardState.commit, status.applied)
        var page = CommittedPage(
            entries: [], commit: commit, firstIndex: status.firstIndex, lastIndex: status.lastIndex,
            readOnLeader: status.softState.role == .leader, term: status.hardState.term)
        guard index <= commit, index >= status.firstIndex, maxEntries > 0 else { return .success(page) }
        let end = LogIndex(min(commit.rawValue + 1, index.rawValue + UInt64(maxEntries)))
        do {
            page.entries = try group.log.entries(from: index, to: end, maxBytes: maxBytes)
        } catch RaftStorageError.compacted {
            page.firstIndex = (try? group.log.firstIndex()) ?? status.firstIndex
        } catch {
            return .failure(.storageFailed("\(error)"))
        }
        return .success(page)
    }
}

extension ReplicationHost {
    /// Loop thread only: the entries this node has stored but not applied yet (on a leader, the
    /// ones that will commit with it). nil when they exceed `maxBytes`, so callers can refuse
    /// rather than decide without seeing them.
    public func unappliedStoredEntriesOnLoop(_ groupID: GroupID, maxBytes: Int) -> [Entry]? {
        guard let group = groups[groupID] else { return [] }
        let applied = group.node.status.applied
        guard let stored = try? group.log.lastIndex(), stored > applied else { return [] }
        guard let entries = try? group.log.entries(from: applied.next, to: stored.next, maxBytes: maxBytes) else { return nil }
        return entries.last?.index == stored ? entries : nil
    }
}
