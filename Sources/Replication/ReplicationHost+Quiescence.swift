import MOMCore
import Raft

/// Ticking with quiescence (RaftCore+Quiescence, PeerLiveness). A quiesced group's tick does
/// nothing, so the loop skips it and does not ask it for a Ready: an idle node's work per tick
/// no longer grows with its groups. In exchange the host keeps its peer nodes alive and watches
/// them: a peer silent for an election timeout wakes every quiesced group it has a part in.
extension ReplicationHost {
    /// How often (ticks) the set of peer nodes is recomputed from the groups' members. A peer
    /// new to this node is kept alive and watched within this delay.
    static let peerRefreshTicks: UInt64 = 10

    /// Loop thread: one tick of every group that is awake.
    func tickGroups() {
        guard settings.quiesce else {
            for group in orderedGroups { group.node.tick() }
            touchEveryGroup()
            return
        }
        if tickCount % Self.peerRefreshTicks == 0 { liveness.track(memberPeers(), tick: tickCount) }
        let silent = liveness.silentPeers(at: tickCount)
        var quiesced = 0
        for group in orderedGroups {
            if group.node.isQuiesced {
                for peer in silent { group.node.reportPeerDown(peer) }
                if group.node.isQuiesced {
                    quiesced += 1
                    continue
                }
            }
            group.node.tick()
            touch(group)
        }
        if quiesced == 0 { touchEveryGroup() }
        publishQuiescedGroupCount(quiesced)
        if tickCount % UInt64(settings.heartbeatTicks) == 0 { sendKeepAlives() }
    }

    /// Every node that shares a group with this one.
    private func memberPeers() -> Set<NodeID> {
        var peers: Set<NodeID> = []
        for group in orderedGroups {
            for member in group.node.memberIDs where member != nodeID { peers.insert(member) }
        }
        return peers
    }

    /// An empty heartbeat batch to every peer node: "this node is up".
    private func sendKeepAlives() {
        let payload = HeartbeatBatch.encode([])
        for peer in liveness.peers { link.send(to: peer, group: HeartbeatBatch.channel, payload: payload) }
    }

    /// A leader whose group stops on this node (a storage failure) may have quiesced followers
    /// that would otherwise wait for it for as long as this node stays up: ask them to elect now.
    func wakeFollowers(ofStopped group: GroupReplica) {
        guard settings.quiesce, group.isLeader else { return }
        let term = group.node.status.hardState.term
        for member in group.node.memberIDs where member != nodeID {
            let message = Message(kind: .timeoutNow, from: nodeID, to: member, term: term)
            link.send(to: member, group: group.id, payload: message.encoded())
        }
    }
}
