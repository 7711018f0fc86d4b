import MOMCore
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
    /// The TCP transport between nodes.
    static func tcpLink(_ config: NodeConfig, _ host: ReplicationHost) throws -> (link: any PeerLink, stop: @Sendable () -> Void, updatePeers: @Sendable ([NodeID: SocketAddress]) -> Void) {
        throw NodeConfig.Invalid(message: "cluster mode needs the TCP transport, which this build does not include yet")
    }
}
