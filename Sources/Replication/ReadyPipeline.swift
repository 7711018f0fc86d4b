import MOMCore
import Raft
import SystemIO

/// persist → send the leader's appends → sync every dirty log together → send the rest →
/// apply → advance, over every group with a Ready. With asynchronous storage writes the sync
/// is handed to `BackgroundSync` instead, and only what vouches for durability waits for it
/// (ReplicationHost+AsyncWrites).
extension ReplicationHost {
    /// Returns whether a group it advanced has another Ready at once (only those can: nothing
    /// else changed since their `hasReady` was asked).
    @discardableResult
    func processReadies(nowNanoseconds: UInt64) -> Bool {
        waitIfTooManySyncsPending()
        var readies: [(GroupReplica, Ready)] = []
        for group in takeTouchedGroups() where group.node.hasReady() {
            readies.append((group, group.node.ready()))
        }
        var failed: Set<GroupID> = []
        for (group, ready) in readies {
            if let background, Self.rewritesLog(ready, of: group) { background.waitForAll() }
            do { try persist(ready, in: group) } catch { failed.insert(group.id); fail(group, error) }
        }
        // New groups' files, and terms and votes saved above, become durable together here,
        // before anything of this pass is sent (DeferredDurability).
        makeDeferredWritesDurable(failed: &failed)
        // A leader's appends and heartbeats go out before its own fdatasync, so the followers'
        // syncs overlap it (Raft thesis §10.2.1, as etcd does). This is safe because the leader
        // counts itself in the commit quorum only once its sync finished (`advance` after the
        // sync below, or `acknowledgeDurable`); its term was made durable before it could win
        // the election. Responses and votes wait.
        var early: [(GroupID, Message)] = []
        var late: [(GroupID, Message)] = []
        for (group, ready) in readies where !failed.contains(group.id) {
            for message in ready.messages {
                let waits = background == nil ? !Self.mayPrecedeSync(message) : message.kind.vouchesForDurability
                if waits { late.append((group.id, message)) } else { early.append((group.id, message)) }
            }
        }
        sendMessages(early)
        // Asynchronous storage writes (ReplicationHost+AsyncWrites): the sync runs on its own
        // thread; what depends on it waits for its completion, not this pass. Term and vote are
        // already durable (`GroupLog.save`, or deferred and made durable above), and so is an
        // installed snapshot, so only the logs written need it. Except for the one small write
        // of a pass with no sync in flight (`inlineSyncCandidate`), synced below like a pass of
        // synchronous writes.
        let written = background == nil ? [] : readies.filter { !$0.1.entries.isEmpty && !failed.contains($0.0.id) }
        let inline = background == nil ? nil : inlineSyncCandidate(written)
        if let background, inline == nil {
            handOffSync(written: written, late: late, to: background, failed: &failed)
            flushEarly(early)
        } else {
            flushEarly(early)
            // Group commit: every dirty log of this pass is synced together, before anything
            // that depends on durability (responses, votes, applying and so acking) happens.
            let dirty = inline.map { [$0] } ?? readies.filter { $0.1.mustSync && !failed.contains($0.0.id) }.map(\.0)
            for (group, error) in zip(dirty, syncPool.syncAll(dirty.map(\.log))) {
                if let error { failed.insert(group.id); fail(group, error) }
            }
            sendMessages(late.filter { !failed.contains($0.0) })
            if inline != nil { countSync(inline: true) }
        }
        for (group, ready) in readies where !failed.contains(group.id) {
            apply(ready, in: group)
            group.node.advance(ready, entriesDurable: background == nil || inline != nil)
        }
        // Publish before anyone hears of the outcome: a client answered for an applied entry may
        // ask this node again at once, and a status still showing it unapplied made the catalog
        // look stale (a 503 "metadata catching up" right after a 2xx). A failed group was
        // unpublished: publishing it again would advertise a group that is gone.
        for (group, ready) in readies where !failed.contains(group.id) && Self.changesStatus(ready, of: group) {
            publishStatus(of: group)
        }
        for (group, ready) in readies where !failed.contains(group.id) && !ready.committedEntries.isEmpty {
            group.proposals.applied(ready.committedEntries)
        }
        for (group, ready) in readies where !failed.contains(group.id) && !ready.readStates.isEmpty {
            answerConfirmations(ready.readStates, of: group)
        }
        // Only groups with proposals, waiters or a membership change have anything to expire,
        // settle or wake: with 1,000 mostly idle groups, reading every group's status on every
        // pass was the largest part of an idle node's CPU (docs/performance.md §10).
        for group in orderedGroups where group.hasPendingWork {
            group.proposals.expire(nowNanoseconds: nowNanoseconds)
            settleMembershipChange(of: group, nowNanoseconds: nowNanoseconds)
            // Waiters read applied state next (long-polls, leader reads): wake them only once
            // the commit is applied here too, or they would find nothing new and give up.
            group.commitWaiters.update(commit: min(group.node.commitIndex, group.node.appliedIndex), nowNanoseconds: nowNanoseconds)
            expireConfirmations(of: group, nowNanoseconds: nowNanoseconds)
        }
        // Advancing a Ready can make the next one ready at once (a lone voter's durable append
        // commits its entry): those groups are asked again in the next pass, which runs at once.
        var moreWork = false
        for (group, _) in readies where !failed.contains(group.id) && group.node.hasReady() {
            touch(group)
            moreWork = true
        }
        return moreWork
    }

    /// The one log a pass wrote, when it may be synced on the loop thread
    /// (`Settings.inlineSyncEntriesMax`): no sync in flight, so every earlier write is durable
    /// and acknowledged, and this sync covers all that is not; and a small write. Under load a
    /// sync is nearly always in flight, so the loop is not stalled by syncs of its own then
    /// (docs/performance.md §24: 3 inline syncs of 1,966 for 100,000 messages 16 × 16).
    private func inlineSyncCandidate(_ written: [(GroupReplica, Ready)]) -> GroupReplica? {
        guard settings.inlineSyncEntriesMax > 0, written.count == 1, syncsInFlight.isEmpty,
              written[0].1.entries.count <= settings.inlineSyncEntriesMax, written[0].0.unsyncedTicket == 0 else { return nil }
        return written[0].0
    }

    /// On a loop that drives the transport (`LoopWaiter.flush`), a leader's new entries leave
    /// at once instead of at the loop's next poll: the followers' write and sync is the longer
    /// path to the commit, so it must not wait for the rest of this pass, nor, with synchronous
    /// storage writes, for the leader's own fdatasync (which would put the two syncs in series).
    /// With asynchronous writes it runs after the sync hand-off, so the sync thread is woken
    /// before the followers' loops compete with it for the vCPUs. A pass with no new entries
    /// (commit notices, heartbeats) leaves them for the next poll, after the producers' answers.
    private func flushEarly(_ early: [(GroupID, Message)]) {
        if early.contains(where: { !$0.1.entries.isEmpty }) { waiter?.flush() }
    }

    /// Whether publishing the group's status after `ready` could show anything new. A Ready of
    /// messages alone (an idle group's heartbeats and their responses: most Readies of an idle
    /// node) changes no role, term, commit, index or configuration; only a leader's follower lag
    /// can move without them, and only while some follower lags. The first index moves only
    /// with an installed snapshot (in the Ready); a compaction done outside a Ready (retention
    /// on the Raft log, not wired yet) must clear `publishedWithoutLag` to be shown at once.
    static func changesStatus(_ ready: Ready, of group: GroupReplica) -> Bool {
        ready.softState != nil || ready.hardState != nil || !ready.entries.isEmpty || ready.snapshot != nil
            || !ready.committedEntries.isEmpty || !group.publishedWithoutLag
    }

    func publishStatus(of group: GroupReplica) {
        let status = group.status()
        publish(status)
        group.publishedWithoutLag = status.followerLag.values.allSatisfy { $0 == 0 }
    }

    /// Whether a message may leave before this pass's fdatasync: only what a leader sends to
    /// replicate (appends, heartbeats). Anything that vouches for local durability (append
    /// and vote responses) or carries a fresh term or vote (vote requests) must wait for it.
    static func mayPrecedeSync(_ message: Message) -> Bool {
        switch message.kind {
        case .append, .heartbeat, .quiesce: return true
        default: return false
        }
    }

    private func persist(_ ready: Ready, in group: GroupReplica) throws {
        if let snapshot = ready.snapshot, snapshot.metadata.index > .zero { try group.log.install(snapshot) }
        if !ready.entries.isEmpty { try group.log.append(ready.entries) }
        if let hardState = ready.hardState {
            try group.log.save(hardState)
            if group.log.hasDeferredWrites { deferredDurability.add(group) }
        }
    }

    private func apply(_ ready: Ready, in group: GroupReplica) {
        if let soft = ready.softState {
            if soft.leader != group.lastKnownLeader {
                group.leaderChanges += 1
                group.lastKnownLeader = soft.leader
            }
        }
        if let snapshot = ready.snapshot, snapshot.metadata.index > .zero {
            group.stateMachine.restore(snapshot, group: group.id)
        }
        if !ready.committedEntries.isEmpty {
            group.stateMachine.apply(ready.committedEntries, group: group.id)
        }
    }

    /// A disk failure stops the group on this node: it must not vote or ack on a log it cannot
    /// trust. The others carry on; an operator replaces the disk.
    func fail(_ group: GroupReplica, _ error: Error) {
        StandardError.writeLine("replication n\(nodeID.rawValue): group \(group.id.rawValue) stopped on this node after a storage error: \(error); it stays stopped until the node restarts")
        wakeFollowers(ofStopped: group)
        group.proposals.failAll(.storageFailed("\(error)"))
        group.commitWaiters.failAll(.storageFailed("\(error)"))
        failMembershipChange(of: group, .stopped)
        failConfirmations(of: group, .storageFailed("\(error)"))
        removeGroupEntry(group.id)
        unpublish(group.id)
    }

    /// Sends each message on its own, except heartbeats, which go in one batch per peer.
    func sendMessages(_ messages: [(GroupID, Message)]) {
        var heartbeats: [NodeID: [(GroupID, Message)]] = [:]
        for (group, message) in messages {
            if message.to == nodeID {
                inbox.post(.message(from: nodeID, group: group, message))
            } else if HeartbeatBatch.carries(message) {
                heartbeats[message.to, default: []].append((group, message))
            } else {
                link.send(to: message.to, group: group, payload: message.encoded())
            }
        }
        for peer in heartbeats.keys.sorted() {
            link.send(to: peer, group: HeartbeatBatch.channel, payload: HeartbeatBatch.encode(heartbeats[peer]!))
        }
    }
}
