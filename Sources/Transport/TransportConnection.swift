import MOMCore
import SystemIO

/// One TCP connection as the event loop tracks it. Owned by the loop thread only.
final class TransportConnection {
    enum Phase: Equatable {
        /// A dial whose non-blocking connect has not completed.
        case connecting
        /// Connected; waiting for the other side's handshake.
        case handshaking
        /// Handshakes exchanged; envelopes flow.
        case established
    }

    let token: UInt64
    let descriptor: FileDescriptor
    /// True when this node dialed.
    let isDialer: Bool
    var phase: Phase
    /// The peer: known from the start when dialing, from the handshake when accepting.
    var peer: NodeID?
    var decoder: FrameDecoder
    /// Bytes framed but not yet written, from `outboundOffset` on. Holds at most one envelope
    /// frame (plus a handshake), so a control envelope queued now goes out after it.
    var outbound: [UInt8] = []
    var outboundOffset = 0
    /// Envelopes in the frame still (partly) in `outbound`: lost if the connection breaks.
    var outboundEnvelopes = 0
    /// Whether epoll reports writability for this descriptor (only while output is blocked).
    var writeInterest: Bool
    /// The connection is closed if not established by then.
    let handshakeDeadlineNanoseconds: UInt64

    /// The frame bound before the handshake completes: a handshake is a few hundred bytes, and an
    /// unidentified peer must not make this node buffer `Limits.frameBytesMax` per connection.
    static let handshakeFrameBytesMax = 1024

    init(token: UInt64, descriptor: FileDescriptor, isDialer: Bool, peer: NodeID?,
         handshakeDeadlineNanoseconds: UInt64) {
        self.token = token
        self.descriptor = descriptor
        self.isDialer = isDialer
        self.phase = isDialer ? .connecting : .handshaking
        self.peer = peer
        self.decoder = FrameDecoder(frameBytesMax: Self.handshakeFrameBytesMax)
        self.writeInterest = isDialer
        self.handshakeDeadlineNanoseconds = handshakeDeadlineNanoseconds
    }

    var hasPendingOutput: Bool { outboundOffset < outbound.count }

    /// Forgets written bytes; gives back the memory of an unusually large frame.
    func resetOutbound() {
        if outbound.capacity > 8 << 20 { outbound = [] } else { outbound.removeAll(keepingCapacity: true) }
        outboundOffset = 0
        outboundEnvelopes = 0
    }
}

/// The loop's view of one peer in the membership.
struct PeerLink {
    var address: SocketAddress
    /// True when this node has the lower id, so it is the one that dials.
    let isDialer: Bool
    /// The connection bound to this peer (dialing, handshaking as dialer, or established).
    var connectionToken: UInt64?
    /// Consecutive failed dials, for the backoff.
    var failures = 0
    var nextDialNanoseconds: UInt64 = 0
    /// Whether a connection was ever established, so later ones count as reconnects.
    var everEstablished = false
}

/// Why a connection was closed, for the log line and the counters.
enum CloseReason: CustomStringConvertible {
    case endOfStream
    case socketError(Errno)
    case badFrame(FrameError)
    case handshakeRejected(HandshakeRejection)
    case protocolViolation(String)
    case handshakeTimeout
    case replaced
    case peerRemoved
    case addressChanged
    case shutdown

    var description: String {
        switch self {
        case .endOfStream: return "peer closed the connection"
        case .socketError(let errno): return "socket error: \(errno)"
        case .badFrame(let error): return "bad frame: \(error)"
        case .handshakeRejected(let rejection): return "handshake rejected: \(rejection)"
        case .protocolViolation(let reason): return "protocol violation: \(reason)"
        case .handshakeTimeout: return "handshake not completed in time"
        case .replaced: return "replaced by a newer connection from the same peer"
        case .peerRemoved: return "peer left the membership"
        case .addressChanged: return "peer address changed"
        case .shutdown: return "transport stopping"
        }
    }

    /// Whether the log should hear about it: routine closes stay quiet.
    var isWorthLogging: Bool {
        switch self {
        case .shutdown: return false
        default: return true
        }
    }
}
