import MOMCore
import Raft
import SystemIO

/// persist → sync once for all → send → apply → advance, over every group with a Ready.
extension ReplicationHost {
    func processReadies(nowNanoseconds: UInt64) {
        var readies: [(GroupReplica, Ready)] = []
        for id in groups.keys.sorted() {
            guard let group = groups[id] else { continue }
            if group.node.hasReady() { readies.append((group, group.node.ready())) }
        }
        var failed: Set<GroupID> = []
        for (group, ready) in readies {
            do { try persist(ready, in: group) } catch { failed.insert(group.id); fail(group, error) }
        }
        // Group commit: one sync per dirty log covers every append of this pass.
        for (group, ready) in readies where ready.mustSync && !failed.contains(group.id) {
            do { try group.log.sync() } catch { failed.insert(group.id); fail(group, error) }
        }
        sendMessages(readies.filter { !failed.contains($0.0.id) }.flatMap { group, ready in ready.messages.map { (group.id, $0) } })
        for (group, ready) in readies where !failed.contains(group.id) {
            apply(ready, in: group)
            group.node.advance(ready)
        }
        for group in groups.values {
            group.proposals.expire(nowNanoseconds: nowNanoseconds)
            // Waiters read applied state next (long-polls, leader reads): wake them only once
            // the commit is applied here too, or they would find nothing new and give up.
            let status = group.node.status
            group.commitWaiters.update(commit: min(status.hardState.commit, status.applied), nowNanoseconds: nowNanoseconds)
        }
        // A group that failed above was unpublished; publishing it again would advertise (and
        // route reads to) a replica this node no longer hosts.
        for (group, _) in readies where !failed.contains(group.id) { publish(group.status()) }
    }

    private func persist(_ ready: Ready, in group: GroupReplica) throws {
        if let snapshot = ready.snapshot, snapshot.metadata.index > .zero { try group.log.install(snapshot) }
        if !ready.entries.isEmpty { try group.log.append(ready.entries) }
        if let hardState = ready.hardState { try group.log.save(hardState) }
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
            group.proposals.applied(ready.committedEntries)
        }
    }

    /// A disk failure stops the group on this node: it must not vote or ack on a log it cannot
    /// trust. The others carry on; an operator replaces the disk.
    private func fail(_ group: GroupReplica, _ error: Error) {
        StandardError.writeLine("replication n\(nodeID.rawValue): group \(group.id.rawValue) stopped on this node after a storage error: \(error); it stays stopped until the node restarts")
        group.proposals.failAll(.storageFailed("\(error)"))
        group.commitWaiters.failAll(.storageFailed("\(error)"))
        groups[group.id] = nil
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
