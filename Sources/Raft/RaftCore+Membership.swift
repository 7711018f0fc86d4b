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
            // Removed or demoted: hand the group to the remaining voters, who elect a leader
            // after an election timeout.
            becomeFollower(term: term, leader: nil)
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
}
