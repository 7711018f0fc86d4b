import MOMCore

/// Turns a byte stream into frames, whatever way the stream was split into reads.
///
/// Decoding is total: any input either yields frames, waits for more bytes, or throws a
/// `FrameError` — it never traps, and the body bound is checked from the header before any
/// body byte is buffered past it, so a hostile length cannot make it allocate. After an error
/// the decoder stays failed (the connection is going to be closed anyway). Public so the fuzzer
/// and tests drive it without sockets.
public struct FrameDecoder {
    /// The largest whole frame (header and body) accepted, normally `Limits.frameBytesMax`.
    /// Settable so a connection can accept only small frames until the peer has identified
    /// itself, and full-size frames after.
    public var frameBytesMax: Int {
        didSet { precondition(frameBytesMax > Frame.headerByteCount, "frameBytesMax must exceed the header") }
    }
    private var buffer: [UInt8] = []
    private var readPosition = 0
    private var failure: FrameError?

    /// A decoder that rejects frames larger than `frameBytesMax` bytes.
    public init(frameBytesMax: Int) {
        precondition(frameBytesMax > Frame.headerByteCount, "frameBytesMax must exceed the header")
        self.frameBytesMax = frameBytesMax
    }

    /// Bytes received but not yet returned as frames. The caller bounds this by decoding after
    /// every read: it never exceeds one frame plus one read.
    public var bufferedByteCount: Int { buffer.count - readPosition }

    /// Appends received bytes.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(contentsOf: bytes)
    }

    /// Appends received bytes.
    public mutating func feed<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        buffer.append(contentsOf: bytes)
    }

    /// The next complete frame, nil when more bytes are needed, or the reason the stream is bad.
    public mutating func nextFrame() throws(FrameError) -> Frame? {
        if let failure { throw failure }
        do throws(FrameError) {
            guard let frame = try decodeNext() else { return nil }
            compact()
            return frame
        } catch {
            failure = error
            throw error
        }
    }

    private mutating func decodeNext() throws(FrameError) -> Frame? {
        guard bufferedByteCount >= Frame.headerByteCount else { return nil }
        let (length, expectedChecksum) = buffer.withUnsafeBytes { raw in
            (UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: readPosition, as: UInt32.self)),
             UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: readPosition + 4, as: UInt32.self)))
        }
        let bodyLimit = frameBytesMax - Frame.headerByteCount
        guard length > 0, Int(length) <= bodyLimit else {
            throw .bodyLengthOutOfRange(length: UInt64(length), limit: bodyLimit)
        }
        let bodyStart = readPosition + Frame.headerByteCount
        let bodyEnd = bodyStart + Int(length)
        guard buffer.count >= bodyEnd else { return nil }
        // withUnsafeBytes rethrows untyped errors, so the typed error travels in a Result.
        let result = buffer.withUnsafeBytes { raw -> Result<Frame, FrameError> in
            let body = UnsafeRawBufferPointer(rebasing: raw[bodyStart..<bodyEnd])
            let actualChecksum = CRC32C.checksum(body)
            guard actualChecksum == expectedChecksum else {
                return .failure(.checksumMismatch(expected: expectedChecksum, actual: actualChecksum))
            }
            return Result { () throws(FrameError) -> Frame in try FrameDecoder.decodeBody(body) }
        }
        let frame = try result.get()
        readPosition = bodyEnd
        return frame
    }

    /// Drops consumed bytes once they dominate the buffer, so memory stays near one frame.
    private mutating func compact() {
        if readPosition == buffer.count {
            // Give back the memory of an unusually large frame; keep a normal buffer's capacity.
            if buffer.capacity > 4 << 20 { buffer = [] } else { buffer.removeAll(keepingCapacity: true) }
            readPosition = 0
        } else if readPosition >= 64 << 10 && readPosition * 2 >= buffer.count {
            buffer.removeSubrange(0..<readPosition)
            readPosition = 0
        }
    }

    /// Decodes a checksummed frame body. Public for fuzzing the body parser directly.
    public static func decodeBody(_ body: UnsafeRawBufferPointer) throws(FrameError) -> Frame {
        var reader = BinaryReader(body)
        do {
            let kindByte = try reader.readByte()
            let frame: Frame
            switch Frame.Kind(rawValue: kindByte) {
            case .handshake: frame = .handshake(try decodeHandshake(&reader))
            case .envelopes: frame = .envelopes(try decodeEnvelopes(&reader))
            case nil: throw FrameError.unknownKind(kindByte)
            }
            guard reader.isAtEnd else { throw FrameError.malformedBody("\(reader.remaining) trailing bytes") }
            return frame
        } catch let error as FrameError {
            throw error
        } catch {
            throw .malformedBody("\(error)")
        }
    }

    private static func decodeHandshake(_ reader: inout BinaryReader) throws -> Handshake {
        let version = try reader.readVarint()
        guard version <= UInt64(UInt32.max) else { throw FrameError.malformedBody("protocol version \(version)") }
        let cluster = try reader.readString(limit: Handshake.clusterIDBytesMax)
        let sender = NodeID(try reader.readVarint())
        let receiver = NodeID(try reader.readVarint())
        return Handshake(protocolVersion: UInt32(version), clusterID: cluster, sender: sender, receiver: receiver)
    }

    private static func decodeEnvelopes(_ reader: inout BinaryReader) throws -> [Envelope] {
        let count = try reader.readVarint()
        // Every envelope takes at least two bytes, so a larger count is a lie; checking it first
        // keeps a forged count from reserving memory.
        guard count <= UInt64(reader.remaining / 2) else {
            throw FrameError.malformedBody("envelope count \(count) exceeds what \(reader.remaining) bytes can hold")
        }
        var envelopes: [Envelope] = []
        envelopes.reserveCapacity(Int(count))
        for _ in 0..<count {
            let group = GroupID(try reader.readVarint())
            let payload = try reader.readLengthPrefixed(limit: reader.remaining)
            envelopes.append(Envelope(group: group, payload: Array(payload)))
        }
        return envelopes
    }
}
