import MOMCore

/// Quiescence (CockroachDB's quiesced ranges). A node hosts many groups, and most of them are
/// idle most of the time; heartbeating each one costs every node CPU for nothing. So a leader
/// whose whole log is committed, applied and held by every member, with nothing in flight, sends
/// `.quiesce` instead of its next heartbeat and stops its clocks; a follower that holds exactly
/// that log stops its election clock too. Ticks then do nothing (`tick`).
///
/// Any input wakes a node: a message of any kind but `.quiesce`, a proposal, a campaign, a
/// transfer, a read. A proposal's append wakes the followers as it arrives.
///
/// What replaces the heartbeats for failure detection is the host's node-level liveness: the
/// host hears from every peer node regularly, whatever its groups do, and reports a peer whose
/// node fell silent for an election timeout (`reportPeerDown`). A follower whose leader is on
/// that node wakes with its lease expired and campaigns within another election timeout; a
/// leader with a member there wakes and heartbeats again (and check-quorum deposes it if it is
/// the one cut off). Safety never depends on any of this: quiescence only stops timers.
extension RaftCore {
    /// Whether this leader may stop heartbeating: everything it holds is durable, committed,
    /// applied and matched by every member, and no read, transfer or message is pending.
    /// `recentActive` stands in for "the member is alive": a member that stopped answering is
    /// not quiesced with, so the leader keeps probing it until check-quorum notices.
    func canQuiesce() -> Bool {
        guard role == .leader, leadTransferee == nil, tracker.configuration.isVoter(id) else { return false }
        let last = log.lastIndex
        guard log.committed == last, log.applied == last, log.unstable.entries.isEmpty, log.unstable.snapshot == nil,
              readOnly.lastContext == nil, readsAwaitingCommit.isEmpty, messages.isEmpty, readStates.isEmpty
        else { return false }
        for peer in tracker.memberIDs {
            let progress = tracker.progress[peer]!
            guard progress.match == last else { return false }
            if peer == id { continue }
            guard progress.state == .replicate, progress.recentActive, progress.inflights.count == 0 else { return false }
        }
        return true
    }

    /// Sends every member a `.quiesce` and stops this leader's clocks, when `canQuiesce`.
    func quiesce() -> Bool {
        guard canQuiesce() else { return false }
        let last = log.lastIndex
        let lastTerm = log.lastTerm
        for peer in tracker.memberIDs where peer != id {
            // Every member matches `last`, which is committed: the commit cannot overshoot.
            tracker.progress[peer]!.sentCommit(log.committed)
            send(Message(kind: .quiesce, from: id, to: peer, logTerm: lastTerm, index: last, commit: log.committed))
        }
        quiesced = true
        return true
    }

    /// A follower's side of `.quiesce` (its leader and election clock already set, as for a
    /// heartbeat). It goes quiet only if it holds exactly the leader's log and commit; a silent
    /// answer is the point (an answer would wake the leader). Otherwise it answers like a
    /// heartbeat, which wakes the leader and keeps both ticking.
    func handleQuiesce(_ message: Message) {
        log.commit(to: min(message.commit, log.lastIndex))
        let holdsLeadersLog = log.lastIndex == message.index && log.matchTerm(message.index, message.logTerm)
            && log.committed == message.index && log.unstable.entries.isEmpty && log.unstable.snapshot == nil
        if holdsLeadersLog {
            quiesced = true
        } else {
            quiesced = false
            send(Message(kind: .heartbeatResponse, from: id, to: message.from))
        }
    }

    /// The host heard nothing from `peer`'s node for at least an election timeout. Wakes this
    /// node when it is quiesced with `peer`: a follower of a leader there (as if it had heard
    /// nothing from its leader for that long: it grants votes at once and campaigns within one
    /// more timeout, `presumeLeaderDead`), or a leader with a member there (it heartbeats again,
    /// so check-quorum can depose it if it is the one cut off).
    func reportPeerDown(_ peer: NodeID) {
        guard quiesced, peer != id else { return }
        switch role {
        case .leader where tracker.progress[peer] != nil:
            quiesced = false
            // Not heard from for an election timeout: not recently active. So the leader does
            // not quiesce with it again, and check-quorum counts it as it should.
            tracker.progress[peer]!.recentActive = false
        case .follower where leader == peer:
            quiesced = false
            presumeLeaderDead()
        default:
            break
        }
    }
}
