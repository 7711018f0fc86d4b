import MOMCore
import Raft
import SystemIO

/// Asynchronous storage writes (`Settings.asyncStorageWrites`): a pass writes its entries and
/// hands their sync to `BackgroundSync` instead of waiting for it. Until that sync finishes:
/// - a leader does not count itself toward those entries' commit (`RawNode.advance(_:entriesDurable:)`
///   with false, then `acknowledgeDurable` on completion);
/// - a group's messages that vouch for durability (append and vote responses,
///   `MessageKind.vouchesForDurability`) wait with the newest unfinished sync of that group's writes;
/// - committed entries are applied only once synced here too (`RaftLog.syncedLastIndex`).
/// So nothing is acked, and no peer hears "I have it", before a sync that started after the
/// write has finished, as in the synchronous pipeline; but the loop keeps appending, stepping
/// and replicating meanwhile, and later passes' entries join the next sync.
struct PendingSync {
    struct Write {
        let group: GroupReplica
        let point: GroupSyncPoint
        /// The term of the last entry written, which the point's last index must still hold
        /// when the leader counts itself.
        let term: Term
    }

    let ticket: UInt64
    let writes: [Write]
    /// Held messages, with the replica that sent them: one removed since (and perhaps added
    /// again under the same id, empty) must not vouch for what the old one wrote.
    var messages: [(GroupReplica, Message)]
}

extension ReplicationHost {
    /// Passes whose syncs may be unfinished at once; beyond it the loop waits (back-pressure).
    static let pendingSyncsMax = 64

    /// Whether persisting `ready` rewrites what the log already holds (a conflict's truncation,
    /// a snapshot's reset): no sync may be running then, or its completion could vouch for
    /// records it never covered.
    static func rewritesLog(_ ready: Ready, of group: GroupReplica) -> Bool {
        if let snapshot = ready.snapshot, snapshot.metadata.index > .zero { return true }
        guard let first = ready.entries.first else { return false }
        guard let last = try? group.log.lastIndex() else { return true }
        return first.index <= last
    }

    /// After a pass's writes: asks for one sync of every log written, and holds back `late`
    /// messages of groups with an unfinished sync. Groups whose sync point cannot be read fail.
    func handOffSync(
        written: [(GroupReplica, Ready)], late: [(GroupID, Message)], to background: any SyncEngine,
        failed: inout Set<GroupID>
    ) {
        var writes: [PendingSync.Write] = []
        for (group, ready) in written {
            guard let last = ready.entries.last else { continue }
            do {
                let point = try group.log.syncPoint()
                precondition(point.lastIndex == last.index, "sync point \(point.lastIndex) is not the last entry written, \(last.index)")
                writes.append(.init(group: group, point: point, term: last.term))
            } catch {
                failed.insert(group.id)
                fail(group, error)
            }
        }
        if !writes.isEmpty {
            // One log written: its own fdatasync (through a descriptor of its own) can serve
            // instead of syncfs. A log that cannot give one gets syncfs.
            let file = writes.count == 1 ? (try? writes[0].group.log.syncHandle()) ?? nil : nil
            let ticket = background.request(file: file)
            countSync(inline: false)
            for write in writes { write.group.unsyncedTicket = ticket }
            syncsInFlight.append(PendingSync(ticket: ticket, writes: writes, messages: []))
        }
        var now: [(GroupID, Message)] = []
        for (id, message) in late where !failed.contains(id) {
            guard let group = groups[id], group.unsyncedTicket != 0,
                  let slot = syncsInFlight.lastIndex(where: { $0.ticket == group.unsyncedTicket }) else {
                now.append((id, message))
                continue
            }
            syncsInFlight[slot].messages.append((group, message))
        }
        sendMessages(now)
    }

    /// Completes every pending sync the background thread finished: marks the logs durable,
    /// lets leaders count themselves, sends the held messages. A failed sync stops every group
    /// it covered (nothing of theirs is acked).
    func completeFinishedSyncs() {
        guard let background else { return }
        for finished in background.takeFinished() {
            while let pending = syncsInFlight.first, pending.ticket <= finished.throughTicket {
                syncsInFlight.removeFirst()
                complete(pending, error: finished.error)
            }
        }
    }

    /// Before a pass would add a sync beyond `pendingSyncsMax`: waits for the running ones.
    func waitIfTooManySyncsPending() {
        guard let background, syncsInFlight.count >= Self.pendingSyncsMax else { return }
        background.waitForAll()
        completeFinishedSyncs()
    }

    private func complete(_ pending: PendingSync, error: Errno?) {
        for write in pending.writes where groups[write.group.id] === write.group {
            let group = write.group
            if group.unsyncedTicket <= pending.ticket { group.unsyncedTicket = 0 }
            do {
                if let error { throw error }
                // A log rewritten since the point (truncated after a conflict, reset for a
                // snapshot) is not marked; its leader, if any, never rewrote it, so nothing to count.
                if try group.log.markSynced(through: write.point) {
                    group.node.acknowledgeDurable(upTo: write.point.lastIndex, term: write.term)
                }
                touch(group)
            } catch {
                fail(group, error)
            }
        }
        // A failed group was removed by `fail`, so its messages go nowhere.
        sendMessages(pending.messages.filter { groups[$0.0.id] === $0.0 }.map { ($0.0.id, $0.1) })
    }
}
