import MOMCore

/// The follower's side: accepting appends, heartbeats and snapshots (etcd's handleAppendEntries,
/// handleHeartbeat, handleSnapshot, restore).
extension RaftCore {
    func handleAppend(_ message: Message) {
        if message.index < log.committed {
            // Everything up to our commit index already matches the leader's log.
            send(Message(kind: .appendResponse, from: id, to: message.from, index: log.committed))
            return
        }
        if let lastNew = log.maybeAppend(index: message.index, logTerm: message.logTerm,
                                         commit: message.commit, entries: message.entries) {
            send(Message(kind: .appendResponse, from: id, to: message.from, index: lastNew))
            return
        }
        // Our log does not match at (index, logTerm). Hint the largest index whose term is at
        // most logTerm: every entry of ours after it with a larger term must go, so the leader
        // can skip them all in one round trip.
        let probe = min(message.index, log.lastIndex)
        let hint = log.findConflictByTerm(index: probe, term: message.logTerm)
        send(Message(kind: .appendResponse, from: id, to: message.from, logTerm: hint.term,
                     index: message.index, reject: true, rejectHint: hint.index))
    }

    func handleHeartbeat(_ message: Message) {
        // The leader sends min(match, commit), so this never exceeds our log; clamp anyway so a
        // corrupt message cannot push the commit index past what we hold.
        log.commit(to: min(message.commit, log.lastIndex))
        send(Message(kind: .heartbeatResponse, from: id, to: message.from, context: message.context))
    }

    func handleSnapshot(_ message: Message) {
        guard let snapshot = message.snapshot else { return }
        if restore(snapshot) {
            send(Message(kind: .appendResponse, from: id, to: message.from, index: log.lastIndex))
        } else {
            send(Message(kind: .appendResponse, from: id, to: message.from, index: log.committed))
        }
    }

    /// Installs `snapshot` as the new log start; false when it brings nothing new.
    private func restore(_ snapshot: Snapshot) -> Bool {
        let metadata = snapshot.metadata
        if metadata.index <= log.committed { return false }
        guard role == .follower else {
            // Only a leader of our term sends snapshots, and then we are its follower.
            becomeFollower(term: term.next, leader: nil)
            return false
        }
        // A snapshot may predate our addition (a new learner catching up from the log start):
        // the configuration entries after it add us. etcd refuses such snapshots; we accept
        // them so a host need not cut a fresh snapshot for every new member.
        if log.matchTerm(metadata.index, metadata.term) {
            // We already hold the snapshot's last entry: just fast-forward the commit index.
            log.commit(to: metadata.index)
            return false
        }
        log.restore(snapshot)
        tracker.apply(metadata.configuration, next: log.lastIndex.next)
        configurationIndex = metadata.index
        return true
    }
}
