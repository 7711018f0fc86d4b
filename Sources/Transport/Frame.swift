import MOMCore

/// The wire format between two MOM nodes.
///
///     frame  := bodyLength:UInt32le  bodyCRC32C:UInt32le  body
///     body   := kind:UInt8  ...
///     kind 1 (handshake) := version:varint  clusterID:varint-length+utf8  sender:varint  receiver:varint
///     kind 2 (envelopes) := count:varint  { group:varint  payloadLength:varint  payload }*count
///
/// The CRC32C covers the body, so a corrupt length is caught by the bound check and a corrupt
/// body by the checksum; either way the connection is closed, never trusted. Many envelopes
/// share one frame: one checksum and one write per batch, not per message.
public enum Frame: Hashable, Sendable {
    /// The first frame on every connection, in both directions.
    case handshake(Handshake)
    /// A batch of envelopes, delivered in order.
    case envelopes([Envelope])

    /// Bytes before the body: length and checksum.
    public static let headerByteCount = 8
    /// Worst-case frame bytes besides the envelopes: header, kind byte, a 10-byte count varint.
    public static let envelopeFrameOverheadByteCount = headerByteCount + 1 + 10

    enum Kind: UInt8 {
        case handshake = 1
        case envelopes = 2
    }
}

/// Why a byte stream is not a valid frame sequence. Every case closes the connection.
public enum FrameError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The header announces a body larger than the configured bound (or an empty one).
    case bodyLengthOutOfRange(length: UInt64, limit: Int)
    /// The body does not match its CRC32C.
    case checksumMismatch(expected: UInt32, actual: UInt32)
    /// The body kind byte is not one this version knows.
    case unknownKind(UInt8)
    /// The body is structurally invalid (truncated field, trailing bytes, bad count).
    case malformedBody(String)

    public var description: String {
        switch self {
        case .bodyLengthOutOfRange(let length, let limit):
            return "frame body length \(length) outside 1...\(limit)"
        case .checksumMismatch(let expected, let actual):
            return "frame CRC32C mismatch: header says \(expected), body has \(actual)"
        case .unknownKind(let kind):
            return "unknown frame kind \(kind)"
        case .malformedBody(let reason):
            return "malformed frame body: \(reason)"
        }
    }
}

/// Appends encoded frames to an output buffer. Pure: no I/O, so tests and the fuzzer share it.
/// Writes straight into the caller's buffer so a batch of payloads is copied exactly once.
public enum FrameEncoder {
    /// Appends one envelope frame. The caller keeps the frame within `Limits.frameBytesMax`
    /// (the send queue rejects oversize envelopes and batches up to the bound).
    public static func appendEnvelopes<C: Collection>(_ envelopes: C, to output: inout [UInt8])
    where C.Element == Envelope {
        appendFrame(to: &output) { output in
            output.append(Frame.Kind.envelopes.rawValue)
            appendVarint(UInt64(envelopes.count), to: &output)
            for envelope in envelopes {
                appendVarint(envelope.group.rawValue, to: &output)
                appendVarint(UInt64(envelope.payload.count), to: &output)
                output.append(contentsOf: envelope.payload)
            }
        }
    }

    /// Appends one handshake frame.
    public static func appendHandshake(_ handshake: Handshake, to output: inout [UInt8]) {
        appendFrame(to: &output) { output in
            output.append(Frame.Kind.handshake.rawValue)
            appendVarint(UInt64(handshake.protocolVersion), to: &output)
            let cluster = Array(handshake.clusterID.utf8)
            appendVarint(UInt64(cluster.count), to: &output)
            output.append(contentsOf: cluster)
            appendVarint(handshake.sender.rawValue, to: &output)
            appendVarint(handshake.receiver.rawValue, to: &output)
        }
    }

    /// Appends any frame (for tests and fuzz seeds).
    public static func append(_ frame: Frame, to output: inout [UInt8]) {
        switch frame {
        case .handshake(let handshake): appendHandshake(handshake, to: &output)
        case .envelopes(let envelopes): appendEnvelopes(envelopes, to: &output)
        }
    }

    private static func appendFrame(to output: inout [UInt8], body: (inout [UInt8]) -> Void) {
        let headerPosition = output.count
        output.append(contentsOf: repeatElement(0, count: Frame.headerByteCount))
        let bodyPosition = output.count
        body(&output)
        let bodyLength = output.count - bodyPosition
        precondition(bodyLength <= Int(UInt32.max), "frame body exceeds UInt32")
        output.withUnsafeMutableBytes { raw in
            let checksum = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[bodyPosition...]))
            raw.storeBytes(of: UInt32(bodyLength).littleEndian, toByteOffset: headerPosition, as: UInt32.self)
            raw.storeBytes(of: checksum.littleEndian, toByteOffset: headerPosition + 4, as: UInt32.self)
        }
    }

    static func appendVarint(_ value: UInt64, to output: inout [UInt8]) {
        var remaining = value
        while remaining >= 0x80 {
            output.append(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        output.append(UInt8(remaining))
    }
}
