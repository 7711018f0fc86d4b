import MOMCore
import Transport
import Replication
import SystemIO

/// The peer link of a node that has no peers: a standalone node's groups all have one voter,
/// so nothing is ever sent; anything that is, is dropped.
final class DroppingLink: PeerLink, @unchecked Sendable {
    func send(to peer: NodeID, group: GroupID, payload: [UInt8]) {}
}

extension NodeServer {
    /// The link for a standalone node.
    public static let standaloneLink: LinkFactory = { _, _, _ in (DroppingLink(), {}, { _ in }) }
}

extension NodeServer {
    /// The production link: the TCP transport when the node has peers, else none.
    public static let defaultLink: LinkFactory = { config, host, relay in
        if Set(config.metaReplicas) == [config.nodeID] && config.zookeeper == nil {
            return try standaloneLink(config, host, relay)
        }
        return try tcpLink(config, host, relay: relay)
    }
}

extension NodeServer {
    /// The TCP transport between nodes: one connection per node pair for every group.
    /// Forwarded writes ride the same connections when `relay` is given (`NodeRelay`).
    static func tcpLink(
        _ config: NodeConfig, _ host: ReplicationHost, relay: NodeRelay? = nil
    ) throws -> (link: any PeerLink, stop: @Sendable () -> Void, updatePeers: @Sendable ([NodeID: SocketAddress]) -> Void) {
        var configuration = TCPTransportConfiguration(localNode: config.nodeID, clusterID: config.clusterID, listenAddress: config.raftListen)
        configuration.limits = .standard
        let transport = TCPTransport(configuration: configuration)
        let link = TransportLink(transport: transport)
        // Before the transport starts, so a peer's first relay envelope finds the link.
        relay?.attach(link)
        // Weak: when the transport shares the loop, the host holds the transport, and a strong
        // reference back would keep both (and their descriptors) alive after they stop.
        let receive: @Sendable (NodeID, [Envelope]) -> Void = { [weak host] from, envelopes in
            guard let host else { return }
            for envelope in envelopes {
                if envelope.group == RelayChannel.request || envelope.group == RelayChannel.response {
                    relay?.receive(from: from, channel: envelope.group, payload: envelope.payload)
                } else {
                    host.receive(from: from, group: envelope.group, payload: envelope.payload)
                }
            }
        }
        // Shared: the replication loop waits in the transport's epoll and does its I/O, so a
        // peer's message wakes the thread that steps it (TransportDriver).
        if config.transportThread == .shared {
            host.share(loopWith: SharedLoop(transport: try transport.startDriven(receive: receive), clock: configuration.clock))
        } else {
            try transport.start(receive: receive)
        }
        let localNode = config.nodeID
        return (link, { transport.stop() }, { peers in
            transport.updatePeers(peers.filter { $0.key != localNode })
        })
    }
}

extension TransportDriver: LoopWaiter {}

/// Sends the host's payloads over the transport; heartbeat batches take the control lane so they
/// never wait behind a backlog of appends.
final class TransportLink: PeerLink, RelayLink, @unchecked Sendable {
    let transport: TCPTransport

    init(transport: TCPTransport) { self.transport = transport }

    func send(to peer: NodeID, group: GroupID, payload: [UInt8]) {
        let priority: SendPriority = group == HeartbeatBatch.channel ? .control : .normal
        _ = transport.send([Envelope(group: group, payload: payload)], to: peer, priority: priority)
    }

    func send(_ payload: [UInt8], on channel: GroupID, to peer: NodeID) -> Bool {
        transport.send([Envelope(group: channel, payload: payload)], to: peer, priority: .normal) == .queued
    }

    func connectionGeneration(of peer: NodeID) -> UInt64? { transport.connectionGeneration(of: peer) }
}
