import MOMCore

/// A leader's view of one follower (etcd's tracker/progress.go).
struct Progress {
    /// The highest index known to match the leader's log. Never decreases while leading.
    var match: LogIndex
    /// The next index to send. Invariant: `match < next`.
    var next: LogIndex
    private(set) var state: ProgressState = .probe
    /// In snapshot state, the index of the snapshot sent; zero otherwise.
    private(set) var pendingSnapshot: LogIndex = .zero
    /// Ticks spent in snapshot state; a snapshot that is neither acknowledged nor reported
    /// within an election timeout is assumed lost and retried.
    var snapshotTicks = 0
    /// Heard from since the last check-quorum round.
    var recentActive = false
    /// In probe state: one append was sent and no reply or heartbeat reply came yet.
    var probeSent = false
    /// The commit index last sent to the peer; an empty append only goes out to raise it.
    private(set) var sentCommit: LogIndex = .zero
    var inflights: Inflights
    var isLearner: Bool

    init(next: LogIndex, inflightMessagesMax: Int, inflightBytesMax: Int, isLearner: Bool) {
        precondition(next.rawValue >= 1, "next index starts at 1")
        self.match = .zero
        self.next = next
        self.inflights = Inflights(countMax: inflightMessagesMax, bytesMax: inflightBytesMax)
        self.isLearner = isLearner
    }

    private mutating func reset(to newState: ProgressState) {
        probeSent = false
        pendingSnapshot = .zero
        snapshotTicks = 0
        state = newState
        inflights.reset()
    }

    /// Back to one-at-a-time probing. After a snapshot, resume after it.
    mutating func becomeProbe() {
        let snapshotIndex = pendingSnapshot
        let wasSnapshot = state == .snapshot
        reset(to: .probe)
        next = wasSnapshot ? max(match.next, snapshotIndex.next) : match.next
    }

    /// The snapshot did not arrive: probe from the match index, which leads to a fresh
    /// snapshot if the log there is compacted.
    mutating func snapshotFailed() {
        precondition(state == .snapshot, "no snapshot in flight")
        pendingSnapshot = .zero
        becomeProbe()
    }

    /// The follower's match is known: stream appends optimistically.
    mutating func becomeReplicate() {
        reset(to: .replicate)
        next = match.next
    }

    mutating func becomeSnapshot(index: LogIndex) {
        reset(to: .snapshot)
        pendingSnapshot = index
        next = index.next
    }

    /// An acknowledgement up to `index`. Returns whether `match` advanced.
    mutating func maybeUpdate(_ index: LogIndex) -> Bool {
        var updated = false
        if match < index {
            match = index
            updated = true
            probeSent = false
        }
        next = max(next, index.next)
        return updated
    }

    /// A rejection of the append after `rejected`; `matchHint` is where the follower's log may
    /// match. Returns false for a stale rejection (already superseded).
    mutating func maybeDecrease(rejected: LogIndex, matchHint: LogIndex) -> Bool {
        if state == .replicate {
            // Only a rejection above match is news; it means an append was lost or reordered.
            if rejected <= match { return false }
            next = match.next
            sentCommit = min(sentCommit, next.previous)
            return true
        }
        // In probe state only the reply to the last probe counts.
        if next.previous != rejected { return false }
        next = max(min(rejected, matchHint.next), match.next)
        // The follower cannot have applied a commit index beyond what it is known to hold.
        sentCommit = min(sentCommit, next.previous)
        probeSent = false
        return true
    }

    /// Records an append of `entryCount` entries (`bytes`) just sent.
    mutating func sentEntries(count entryCount: Int, bytes: Int) {
        switch state {
        case .replicate:
            if entryCount > 0 {
                next = next.advanced(by: UInt64(entryCount))
                inflights.add(index: next.previous, bytes: bytes)
            }
        case .probe:
            probeSent = true
        case .snapshot:
            preconditionFailure("sending entries in snapshot state")
        }
    }

    mutating func sentCommit(_ commit: LogIndex) { sentCommit = max(sentCommit, commit) }

    /// Whether an (empty) append would teach the peer a higher commit index.
    func canRaiseCommit(to commit: LogIndex) -> Bool { commit > sentCommit && sentCommit < next.previous }

    /// Whether the leader must hold off sending appends to this peer.
    var isPaused: Bool {
        switch state {
        case .probe: return probeSent
        case .replicate: return inflights.isFull
        case .snapshot: return true
        }
    }

    var publicView: PeerProgress {
        PeerProgress(match: match, next: next, state: state, isLearner: isLearner,
                     recentActive: recentActive, inflightMessages: inflights.count)
    }
}
