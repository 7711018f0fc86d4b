import MOMCore

/// The first frame each side of a connection sends. It names the cluster and both ends, so a
/// node never exchanges Raft traffic with a node of another cluster, a stale address, or a peer
/// that membership does not know.
public struct Handshake: Hashable, Sendable {
    /// The wire protocol this build speaks. A mismatch is rejected rather than guessed at.
    public static let currentProtocolVersion: UInt32 = 1
    /// The longest cluster id accepted on the wire, in UTF-8 bytes.
    public static let clusterIDBytesMax = 255

    /// The sender's wire protocol version.
    public var protocolVersion: UInt32
    /// The cluster name from configuration (for example the ZooKeeper root).
    public var clusterID: String
    /// The node that sent this handshake.
    public var sender: NodeID
    /// The node the sender believes it is talking to.
    public var receiver: NodeID

    public init(protocolVersion: UInt32 = Handshake.currentProtocolVersion, clusterID: String, sender: NodeID, receiver: NodeID) {
        self.protocolVersion = protocolVersion
        self.clusterID = clusterID
        self.sender = sender
        self.receiver = receiver
    }

    /// Why this handshake is unacceptable to `localNode` in `clusterID`, or nil when it is fine.
    /// `expectedSender` is the peer the local node dialed (nil on the accepting side, where
    /// `isKnownDialer` decides instead).
    func rejection(
        localNode: NodeID, clusterID localCluster: String, expectedSender: NodeID?,
        isKnownDialer: (NodeID) -> Bool
    ) -> HandshakeRejection? {
        if protocolVersion != Handshake.currentProtocolVersion {
            return .protocolVersion(protocolVersion)
        }
        if clusterID != localCluster { return .clusterID(clusterID, expected: localCluster) }
        if receiver != localNode { return .wrongReceiver(receiver, local: localNode) }
        if let expectedSender {
            if sender != expectedSender { return .unexpectedSender(sender, expected: expectedSender) }
        } else if !isKnownDialer(sender) {
            return .unknownDialer(sender)
        }
        return nil
    }
}

/// Why a handshake was refused; logged, counted, and the connection is closed.
enum HandshakeRejection: Error, Hashable, CustomStringConvertible {
    case protocolVersion(UInt32)
    case clusterID(String, expected: String)
    case wrongReceiver(NodeID, local: NodeID)
    case unexpectedSender(NodeID, expected: NodeID)
    case unknownDialer(NodeID)

    var description: String {
        switch self {
        case .protocolVersion(let version):
            return "protocol version \(version), this node speaks \(Handshake.currentProtocolVersion)"
        case .clusterID(let got, let expected):
            return "cluster id '\(got)' is not this cluster '\(expected)'; check the cluster name in both configs"
        case .wrongReceiver(let got, let local):
            return "peer addressed node \(got) but this is node \(local); its peer address map is stale"
        case .unexpectedSender(let got, let expected):
            return "dialed node \(expected) but node \(got) answered; the peer address map is stale"
        case .unknownDialer(let node):
            return "node \(node) is not a peer this node accepts dials from (unknown, or its id is not lower)"
        }
    }
}
