import MOMCore

/// Applying membership changes once the application has applied their entries (etcd's
/// applyConfChange / switchToConfig).
extension RaftCore {
    /// Applies the change carried by the entry at `index`, unless the configuration already
    /// reflects a later point (a snapshot installed while the entry was being applied).
    func applyConfigChange(_ change: ConfigChange, at index: LogIndex) {
        guard index > configurationIndex else { return }
        configurationIndex = index
        let updated: Configuration
        do {
            updated = try ConfigChanger.apply(change, to: tracker.configuration)
        } catch {
            // A change valid when proposed can become a no-op (e.g. removing a node twice was
            // refused at proposal, so this only happens for a duplicate replayed entry).
            return
        }
        switchTo(updated)
    }

    /// Adopts `configuration`: new members start probing at the end of our log.
    func switchTo(_ configuration: Configuration) {
        tracker.apply(configuration, next: log.lastIndex.next)
        guard role == .leader else { return }
        if !configuration.isVoter(id) {
            // Removed or demoted by a change we just applied. The remaining voters adopt it
            // only when they apply it too, and until then they still count us as a voter, so
            // stepping down at once can strand them: if the appends carrying this commit index
            // were lost, they need our vote to elect anyone, and we (holding the longest log)
            // refuse every shorter candidate while never campaigning ourselves (seed 1033856).
            // So keep leading, as a non-voter that takes no proposals, for one more election
            // timeout: heartbeats and appends carry the commit index to every voter. Then
            // `stepDownAfterRemoval` hands over (etcd keeps such a leader until the application
            // transfers leadership; Raft thesis §4.2.2 has it step down once Cnew is committed,
            // which there is safe because configurations take effect on append).
            leadTransferee = nil
            electionElapsed = 0
            broadcastAppend()
            return
        }
        if let transferee = leadTransferee, !configuration.isVoter(transferee) {
            leadTransferee = nil
        }
        tracker.progress[id]!.recentActive = true
        // A smaller quorum may commit more; new members need appends.
        if maybeCommit() { releaseReadsAwaitingCommit() }
        broadcastAppend()
    }

    /// Ends the leadership of a leader that is no longer a voter, one election timeout after it
    /// applied its removal: asks the most up-to-date voter to campaign at once (it already
    /// learned the commit index from our heartbeats), then steps down.
    func stepDownAfterRemoval() {
        precondition(role == .leader && !tracker.configuration.isVoter(id), "only a removed leader steps down this way")
        var best: (id: NodeID, match: LogIndex)?
        for peer in tracker.voterIDs where peer != id {
            let match = tracker.progress[peer]!.match
            if best == nil || match > best!.match { best = (peer, match) }
        }
        if let best, best.match == log.lastIndex {
            send(Message(kind: .timeoutNow, from: id, to: best.id))
        }
        becomeFollower(term: term, leader: nil)
    }
}
