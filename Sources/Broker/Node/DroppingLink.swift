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
    public static let standaloneLink: LinkFactory = { _, _ in (DroppingLink(), {}, { _ in }) }
}

extension NodeServer {
    /// The production link: the TCP transport when the node has peers, else none.
    public static let defaultLink: LinkFactory = { config, host in
        if Set(config.metaReplicas) == [config.nodeID] && config.zookeeper == nil {
            return try standaloneLink(config, host)
        }
        return try tcpLink(config, host)
    }
}

extension NodeServer {
    /// The TCP transport between nodes: one connection per node pair for every group.
    static func tcpLink(_ config: NodeConfig, _ host: ReplicationHost) throws -> (link: any PeerLink, stop: @Sendable () -> Void, updatePeers: @Sendable ([NodeID: SocketAddress]) -> Void) {
        var configuration = TCPTransportConfiguration(localNode: config.nodeID, clusterID: config.clusterID, listenAddress: config.raftListen)
        configuration.limits = .standard
        let transport = TCPTransport(configuration: configuration)
        try transport.start { from, envelopes in
            for envelope in envelopes { host.receive(from: from, group: envelope.group, payload: envelope.payload) }
        }
        let localNode = config.nodeID
        return (TransportLink(transport: transport), { transport.stop() }, { peers in
            transport.updatePeers(peers.filter { $0.key != localNode })
        })
    }
}

/// Sends the host's payloads over the transport; heartbeat batches take the control lane so they
/// never wait behind a backlog of appends.
final class TransportLink: PeerLink, @unchecked Sendable {
    let transport: TCPTransport

    init(transport: TCPTransport) { self.transport = transport }

    func send(to peer: NodeID, group: GroupID, payload: [UInt8]) {
        let priority: SendPriority = group == HeartbeatBatch.channel ? .control : .normal
        _ = transport.send([Envelope(group: group, payload: payload)], to: peer, priority: priority)
    }
}
