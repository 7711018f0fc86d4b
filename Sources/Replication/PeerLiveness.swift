import MOMCore

/// Node-level failure detection for quiesced groups (RaftCore+Quiescence). A quiesced group
/// sends no heartbeats, so its followers learn that their leader died only from the node: every
/// host sends each peer node a keep-alive every heartbeat interval (an empty `HeartbeatBatch`),
/// and counts anything it receives from a peer as hearing from it. A peer silent for an election
/// timeout is down: its quiesced groups are woken (`RawNode.reportPeerDown`), and they elect or
/// heartbeat as usual. Pure: ticks in, verdicts out; the loop does the I/O.
struct PeerLiveness {
    /// Ticks of silence after which a peer counts as down (an election timeout).
    let silentTicksMax: UInt64
    /// Per peer node this host shares a group with: the tick it was last heard from (or, never
    /// heard, the tick it became a peer, so a peer that never answers counts as down too).
    private(set) var lastHeard: [NodeID: UInt64] = [:]

    init(silentTicksMax: UInt64) {
        precondition(silentTicksMax > 0, "a peer needs some ticks to be heard from")
        self.silentTicksMax = silentTicksMax
    }

    /// The peers to keep alive and watch, ascending.
    var peers: [NodeID] { lastHeard.keys.sorted() }

    /// Replaces the set of peers (recomputed from the groups' members from time to time).
    /// Peers that stay keep their record; new ones start as heard now.
    mutating func track(_ peers: Set<NodeID>, tick: UInt64) {
        var updated: [NodeID: UInt64] = [:]
        updated.reserveCapacity(peers.count)
        for peer in peers { updated[peer] = lastHeard[peer] ?? tick }
        lastHeard = updated
    }

    /// Something arrived from `peer`. Nodes that are not peers are not tracked.
    mutating func heard(_ peer: NodeID, tick: UInt64) {
        guard let previous = lastHeard[peer], previous < tick else { return }
        lastHeard[peer] = tick
    }

    /// The peers silent for at least `silentTicksMax` at `tick`, ascending.
    func silentPeers(at tick: UInt64) -> [NodeID] {
        lastHeard.filter { tick >= $0.value && tick - $0.value >= silentTicksMax }.keys.sorted()
    }
}
