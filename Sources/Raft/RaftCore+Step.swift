import MOMCore

/// Message dispatch and elections (etcd's Step, campaign, poll).
extension RaftCore {
    func step(_ message: Message) {
        // Any message wakes a quiesced node, before anything else (a pre-vote it then ignores
        // included): whoever sent it is not quiet (RaftCore+Quiescence).
        if message.kind != .quiesce { quiesced = false }
        if message.term == .zero {
            // Forwarded requests (readIndex, transferLeader) carry no term.
        } else if message.term > term {
            guard stepHigherTerm(message) else { return }
        } else if message.term < term {
            stepLowerTerm(message)
            return
        }
        switch message.kind {
        case .vote, .preVote:
            handleVoteRequest(message)
        default:
            switch role {
            case .leader: stepLeader(message)
            case .candidate, .preCandidate: stepCandidate(message)
            case .follower: stepFollower(message)
            }
        }
    }

    /// A message from a later term. Returns false when it is to be ignored.
    private func stepHigherTerm(_ message: Message) -> Bool {
        if message.kind == .vote || message.kind == .preVote {
            let forced = message.context == Message.transferContext
            let inLease = config.checkQuorum && leader != nil && electionElapsed < config.electionTicks
            // Leader lease: we heard from a live leader less than an election timeout ago, so
            // this candidate is disruptive (e.g. a rejoining partitioned node) — ignore it.
            if !forced && inLease { return false }
        }
        switch message.kind {
        case .preVote:
            // A pre-vote never changes our term.
            break
        case .preVoteResponse where !message.reject:
            // Granted pre-votes carry the future term we asked for; the term rises only when a
            // quorum grants them.
            break
        case .append, .heartbeat, .snapshot, .quiesce:
            becomeFollower(term: message.term, leader: message.from)
        default:
            // Raft thesis, Figure 3.1: the election timer restarts only when we hear from the
            // current leader or grant a vote (handleVoteRequest). A higher term learnt from a
            // vote request we may refuse, or from a response, keeps the timer running: otherwise
            // hopeless candidates (stale logs, pre-vote off) keep restarting the up-to-date
            // voters' timers and delay the election past its bound (simulation seed 2044310).
            let elapsed = electionElapsed
            becomeFollower(term: message.term, leader: nil)
            electionElapsed = elapsed
        }
        return true
    }

    /// A message from an earlier term: mostly ignored, but answered where the answer helps.
    private func stepLowerTerm(_ message: Message) {
        if (config.checkQuorum || config.preVote) && (message.kind == .heartbeat || message.kind == .append || message.kind == .quiesce) {
            // A stale leader (e.g. one that was partitioned) learns our term from this reply and
            // steps down. Without it, pre-vote/check-quorum could leave it leading forever while
            // we ignore its messages.
            send(Message(kind: .appendResponse, from: id, to: message.from))
        } else if message.kind == .preVote {
            send(Message(kind: .preVoteResponse, from: id, to: message.from, term: term, reject: true))
        }
    }

    private func handleVoteRequest(_ message: Message) {
        let kind: MessageKind = message.kind == .vote ? .voteResponse : .preVoteResponse
        // We may vote for whom we already voted for, or if we have neither voted nor know a
        // leader in this term; a pre-vote for a later term is always considered.
        let canVote = vote == message.from
            || (vote == nil && leader == nil)
            || (message.kind == .preVote && message.term > term)
        let upToDate = config.plantedBugs.contains(.voteWithoutLogCheck)
            || log.isUpToDate(lastIndex: message.index, term: message.logTerm)
        if canVote && upToDate {
            send(Message(kind: kind, from: id, to: message.from, term: message.term))
            if message.kind == .vote {
                electionElapsed = 0
                vote = message.from
            }
        } else {
            send(Message(kind: kind, from: id, to: message.from, term: term, reject: true))
        }
    }

    /// Starts a pre-vote (when enabled) or an election. `transfer` skips the pre-vote and asks
    /// voters to ignore their leader lease.
    func startElection(transfer: Bool) {
        guard role != .leader, isPromotable else { return }
        if hasUnappliedConfigChange() {
            // Campaigning with an unapplied change could use the wrong configuration.
            return
        }
        if config.preVote && !transfer {
            campaign(preVote: true, transfer: false)
        } else {
            campaign(preVote: false, transfer: transfer)
        }
    }

    private func hasUnappliedConfigChange() -> Bool {
        guard log.committed > log.applied else { return false }
        let lower = max(log.applied.next, log.firstIndex)
        guard lower <= log.committed else { return false }
        // Bounded: at most committed - applied entries, read in byte-limited pages.
        var next = lower
        while next <= log.committed {
            guard let page = log.slice(from: next, to: log.committed.next, maxBytes: config.committedEntriesBytesMax),
                  let last = page.last else { return false }
            if page.contains(where: { $0.kind == .configChange }) { return true }
            next = last.index.next
        }
        return false
    }

    func campaign(preVote: Bool, transfer: Bool) {
        let electionTerm: Term
        let kind: MessageKind
        if preVote {
            becomePreCandidate()
            electionTerm = term.next
            kind = .preVote
        } else {
            becomeCandidate()
            electionTerm = term
            kind = .vote
        }
        if poll(from: id, granted: true) == .won {
            // A single voter wins at once.
            if preVote { campaign(preVote: false, transfer: transfer) } else { becomeLeader() }
            return
        }
        let lastIndex = log.lastIndex
        let lastTerm = log.lastTerm
        for voter in tracker.voterIDs where voter != id {
            send(Message(kind: kind, from: id, to: voter, term: electionTerm, logTerm: lastTerm,
                         index: lastIndex, context: transfer ? Message.transferContext : []))
        }
    }

    @discardableResult
    func poll(from voter: NodeID, granted: Bool) -> VoteResult {
        tracker.recordVote(from: voter, granted: granted)
        return tracker.tallyVotes().result
    }

    /// Pre-candidates and candidates.
    private func stepCandidate(_ message: Message) {
        switch message.kind {
        case .append:
            becomeFollower(term: message.term, leader: message.from)
            handleAppend(message)
        case .heartbeat:
            becomeFollower(term: message.term, leader: message.from)
            handleHeartbeat(message)
        case .quiesce:
            becomeFollower(term: message.term, leader: message.from)
            handleQuiesce(message)
        case .snapshot:
            becomeFollower(term: message.term, leader: message.from)
            handleSnapshot(message)
        case .preVoteResponse, .voteResponse:
            // Only responses to our current kind of campaign count.
            guard (message.kind == .preVoteResponse) == (role == .preCandidate) else { return }
            switch poll(from: message.from, granted: !message.reject) {
            case .won:
                if role == .preCandidate {
                    campaign(preVote: false, transfer: false)
                } else {
                    becomeLeader()
                    broadcastAppend()
                }
            case .lost:
                becomeFollower(term: term, leader: nil)
            case .pending:
                break
            }
        case .readIndex, .transferLeader, .timeoutNow:
            // No leader to forward to; the caller retries.
            break
        default:
            break
        }
    }

    private func stepFollower(_ message: Message) {
        switch message.kind {
        case .append:
            electionElapsed = 0
            leader = message.from
            handleAppend(message)
        case .heartbeat:
            electionElapsed = 0
            leader = message.from
            handleHeartbeat(message)
        case .quiesce:
            electionElapsed = 0
            leader = message.from
            handleQuiesce(message)
        case .snapshot:
            electionElapsed = 0
            leader = message.from
            handleSnapshot(message)
        case .readIndex:
            guard let leader else { return }
            send(Message(kind: .readIndex, from: id, to: leader, context: message.context))
        case .transferLeader:
            guard let leader else { return }
            // `from` names the transferee, so it is kept rather than stamped with our id.
            enqueue(Message(kind: .transferLeader, from: message.from, to: leader))
        case .timeoutNow:
            // Our leader asks us to take over: campaign at once, skipping the pre-vote.
            startElection(transfer: true)
        case .readIndexResponse:
            guard !message.context.isEmpty else { return }
            publish(ReadState(index: message.index, context: message.context))
        default:
            break
        }
    }
}
