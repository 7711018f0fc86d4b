import MOMCore

/// The leader's side: replication with flow control, commitment, heartbeats, ReadIndex and
/// leadership transfer (etcd's stepLeader, sendAppend, maybeCommit).
extension RaftCore {
    func stepLeader(_ message: Message) {
        switch message.kind {
        case .appendResponse:
            guard tracker.progress[message.from] != nil else { return }
            handleAppendResponse(message)
        case .heartbeatResponse:
            guard tracker.progress[message.from] != nil else { return }
            handleHeartbeatResponse(message)
        case .readIndex:
            handleReadIndex(message)
        case .transferLeader:
            handleTransferLeader(to: message.from)
        default:
            // Stale vote responses and the like; appends from a same-term leader cannot exist.
            break
        }
    }

    // MARK: Proposals

    /// Appends client data; the caller already checked leadership.
    func propose(_ entries: [Entry]) throws {
        precondition(role == .leader, "propose on a non-leader")
        // A proposal wakes a quiesced leader (RaftCore+Quiescence), refused or not.
        quiesced = false
        if !tracker.configuration.isVoter(id) || leadTransferee != nil { throw RaftError.proposalDropped }
        guard appendEntries(entries) else { throw RaftError.uncommittedLimit }
        broadcastAppend()
    }

    func proposeConfigChange(_ change: ConfigChange) throws {
        precondition(role == .leader, "propose on a non-leader")
        quiesced = false
        if !tracker.configuration.isVoter(id) || leadTransferee != nil { throw RaftError.proposalDropped }
        // One change at a time, and none before this term's no-op is applied.
        if pendingConfigIndex > log.applied { throw RaftError.configChangePending }
        _ = try ConfigChanger.apply(change, to: tracker.configuration)
        let entry = Entry(term: term, index: .zero, kind: .configChange, data: change.encoded())
        guard appendEntries([entry]) else { throw RaftError.uncommittedLimit }
        pendingConfigIndex = log.lastIndex
        broadcastAppend()
    }

    // MARK: Commitment

    /// Advances the commit index to what a quorum holds, if that entry is of this term.
    func maybeCommit() -> Bool {
        let index = tracker.committedIndex()
        return log.maybeCommit(index: index, term: term,
                               anyTerm: config.plantedBugs.contains(.commitPreviousTermEntries))
    }

    var hasCommittedEntryInCurrentTerm: Bool { log.term(at: log.committed) == term }

    // MARK: Sending appends

    func broadcastAppend() {
        for peer in tracker.memberIDs where peer != id { sendAppend(to: peer) }
    }

    /// Sends `peer` the entries after its next index, or a snapshot when they were compacted.
    /// An append without entries goes out only as a probe, to raise the peer's commit index, or
    /// when `force`d (to detect lost appends). Returns whether a message was sent.
    @discardableResult
    func sendAppend(to peer: NodeID, force: Bool = false) -> Bool {
        guard let progress = tracker.progress[peer], !progress.isPaused else { return false }
        let previous = progress.next.previous
        guard let previousTerm = log.term(at: previous),
              let entries = log.entries(from: progress.next, maxBytes: config.messageBytesMax)
        else {
            return sendSnapshot(to: peer)
        }
        if entries.isEmpty && !force && progress.state == .replicate && !progress.canRaiseCommit(to: log.committed) {
            return false
        }
        send(Message(kind: .append, from: id, to: peer, logTerm: previousTerm, index: previous,
                     entries: entries, commit: log.committed))
        tracker.progress[peer]!.sentEntries(count: entries.count, bytes: entries.sizeBytes)
        tracker.progress[peer]!.sentCommit(log.committed)
        return true
    }

    private func sendSnapshot(to peer: NodeID) -> Bool {
        guard tracker.progress[peer]!.recentActive else {
            // Do not ship a whole snapshot to a peer that may be down.
            return false
        }
        let snapshot: Snapshot
        do {
            snapshot = try log.snapshot()
        } catch RaftStorageError.snapshotTemporarilyUnavailable {
            return false
        } catch {
            preconditionFailure("raft storage failed reading the snapshot: \(error)")
        }
        precondition(!snapshot.isEmpty, "entries were compacted but there is no snapshot")
        send(Message(kind: .snapshot, from: id, to: peer, snapshot: snapshot))
        tracker.progress[peer]!.becomeSnapshot(index: snapshot.metadata.index)
        // Installing it commits through its index on the follower.
        tracker.progress[peer]!.sentCommit(snapshot.metadata.index)
        return true
    }

    func broadcastHeartbeat(context: [UInt8]?) {
        for peer in tracker.memberIDs where peer != id {
            // Never tell a follower to commit beyond what it is known to hold.
            let commit = min(tracker.progress[peer]!.match, log.committed)
            tracker.progress[peer]!.sentCommit(commit)
            send(Message(kind: .heartbeat, from: id, to: peer, commit: commit, context: context ?? []))
        }
    }

    // MARK: Responses

    private func handleAppendResponse(_ message: Message) {
        tracker.progress[message.from]!.recentActive = true
        // A correct follower never acknowledges beyond what we sent it.
        guard message.index <= log.lastIndex else { return }
        if message.reject {
            var hint = message.rejectHint
            if message.logTerm > .zero {
                // Skip every entry of ours whose term exceeds the follower's term at the hint.
                hint = log.findConflictByTerm(index: message.rejectHint, term: message.logTerm).index
            }
            if tracker.progress[message.from]!.maybeDecrease(rejected: message.index, matchHint: hint) {
                if tracker.progress[message.from]!.state == .replicate { tracker.progress[message.from]!.becomeProbe() }
                sendAppend(to: message.from, force: true)
            }
            return
        }
        let wasPaused = tracker.progress[message.from]!.isPaused
        let previous = tracker.progress[message.from]!
        guard tracker.progress[message.from]!.maybeUpdate(message.index)
                || (previous.match == message.index && previous.state == .probe) else { return }
        switch tracker.progress[message.from]!.state {
        case .probe:
            tracker.progress[message.from]!.becomeReplicate()
        case .snapshot where tracker.progress[message.from]!.match.next >= log.firstIndex:
            tracker.progress[message.from]!.becomeProbe()
            tracker.progress[message.from]!.becomeReplicate()
        case .replicate:
            tracker.progress[message.from]!.inflights.free(upTo: message.index)
        case .snapshot:
            break
        }
        if maybeCommit() {
            releaseReadsAwaitingCommit()
            broadcastAppend()
        } else if wasPaused {
            // It may have missed the commit index while paused.
            sendAppend(to: message.from)
        }
        // Fill the pipeline; bounded by the inflight window, the log's end and the commit index.
        while sendAppend(to: message.from) {}
        if message.from == leadTransferee && tracker.progress[message.from]!.match == log.lastIndex {
            sendTimeoutNow(to: message.from)
        }
    }

    private func handleHeartbeatResponse(_ message: Message) {
        tracker.progress[message.from]!.recentActive = true
        let progress = tracker.progress[message.from]!
        if progress.state == .probe { tracker.progress[message.from]!.probeSent = false }
        if progress.match < log.lastIndex || progress.state == .probe {
            // If every append in the window was lost, nothing would ever be acknowledged again:
            // free one slot and send an append, which the follower accepts or rejects, either
            // way resynchronizing us (etcd's FreeFirstOne).
            if progress.state == .replicate && progress.inflights.isFull {
                tracker.progress[message.from]!.inflights.freeFirst()
            }
            sendAppend(to: message.from, force: true)
        }
        guard !message.context.isEmpty,
              let acknowledgements = readOnly.acknowledge(from: message.from, context: message.context),
              tracker.quorum.voteResult(acknowledgements) == .won else { return }
        for read in readOnly.release(through: message.context) { answer(read) }
    }

    // MARK: ReadIndex

    private func handleReadIndex(_ message: Message) {
        if tracker.quorum.voteResult([id: true]) == .won {
            // A single voter is its own quorum.
            answer(PendingRead(index: log.committed, from: message.from, context: message.context))
            return
        }
        guard hasCommittedEntryInCurrentTerm else {
            // Our commit index may lag the previous leader's until our no-op commits (§6.4).
            if readsAwaitingCommit.count < config.pendingReadsMax { readsAwaitingCommit.append(message) }
            return
        }
        guard readOnly.add(index: log.committed, from: message.from, context: message.context) else { return }
        _ = readOnly.acknowledge(from: id, context: message.context)
        broadcastHeartbeat(context: message.context)
    }

    func releaseReadsAwaitingCommit() {
        guard !readsAwaitingCommit.isEmpty, hasCommittedEntryInCurrentTerm else { return }
        let waiting = readsAwaitingCommit
        readsAwaitingCommit = []
        for message in waiting { handleReadIndex(message) }
    }

    private func answer(_ read: PendingRead) {
        if read.from == id {
            publish(ReadState(index: read.index, context: read.context))
        } else {
            send(Message(kind: .readIndexResponse, from: id, to: read.from, index: read.index, context: read.context))
        }
    }

    // MARK: Leadership transfer

    private func handleTransferLeader(to transferee: NodeID) {
        guard let progress = tracker.progress[transferee], !progress.isLearner else { return }
        if let current = leadTransferee {
            if current == transferee { return }
            leadTransferee = nil
        }
        if transferee == id { return }
        // The transfer must finish within an election timeout, or it is abandoned.
        electionElapsed = 0
        leadTransferee = transferee
        if progress.match == log.lastIndex {
            sendTimeoutNow(to: transferee)
        } else {
            sendAppend(to: transferee)
        }
    }

    private func sendTimeoutNow(to peer: NodeID) {
        send(Message(kind: .timeoutNow, from: id, to: peer))
    }
}
