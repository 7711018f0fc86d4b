import MOMCore
import SystemIO

/// Everything a `TCPTransport` needs to know. Defaults suit production; tests shrink the limits
/// and the backoff so bounds and reconnects show up quickly.
public struct TCPTransportConfiguration: Sendable {
    /// This node's id; it dials every peer with a higher id and accepts dials from lower ids.
    public var localNode: NodeID
    /// The cluster name both ends must agree on (for example the ZooKeeper root).
    public var clusterID: String
    /// Where to accept peer connections (port 0 picks a free port; read `listenAddress` back).
    public var listenAddress: SocketAddress
    /// `frameBytesMax`, `peerSendQueueBytesMax` and `peerSendQueueEnvelopesMax` apply.
    public var limits: Limits = .standard
    /// How soon a lost or refused link is redialled.
    public var backoff = ReconnectBackoff()
    /// A frame is closed once it holds this many bytes of envelopes. Smaller frames let control
    /// envelopes overtake bulk traffic sooner; larger frames amortize the checksum and syscall.
    public var frameBatchBytesTarget: Int = 1 << 20
    /// Bounds of the control lane, which is separate so bulk traffic cannot starve it.
    public var controlQueueEnvelopesMax: Int = 4096
    public var controlQueueBytesMax: Int = 16 << 20
    /// A connection that has not completed its handshake by then is closed.
    public var handshakeTimeoutMilliseconds: UInt64 = 5_000
    /// Inbound connections still handshaking at once; beyond it new ones are closed at accept.
    public var handshakingConnectionsMax: Int = 64
    /// Time for backoff and handshake deadlines.
    public var clock: any Clock = SystemClock()
    /// Jitter for the backoff.
    public var random: any RandomSource & Sendable = SystemRandom()
    /// Where connection events go (closed links and why, rejected handshakes). Called on the
    /// transport thread.
    public var log: @Sendable (String) -> Void = { StandardError.writeLine($0) }

    /// A configuration with production defaults.
    public init(localNode: NodeID, clusterID: String, listenAddress: SocketAddress) {
        self.localNode = localNode
        self.clusterID = clusterID
        self.listenAddress = listenAddress
    }
}
