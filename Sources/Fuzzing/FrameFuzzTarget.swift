import MOMCore
import Transport

/// Transport's stream decoder (`FrameDecoder`) and frame body parser: the first code that sees
/// a peer's bytes.
///
/// Oracles: generated frames come back equal, whatever the read sizes; any stream yields
/// frames, waits, or throws a `FrameError` that stays thrown; the buffer never exceeds one
/// frame plus one read; every frame that decodes re-encodes to one that decodes equal.
/// Half of the mutated streams get their checksums recomputed, so mutations reach the body
/// parser instead of all stopping at the CRC.
struct FrameFuzzTarget: FuzzTarget {
    static let frameBytesMax = 4 << 10
    static let readBytesMax = 512
    let mutator = ByteMutator(lengthMax: 16 << 10)

    func run(random: inout SeededRandom) throws(FuzzFinding) {
        let frames = (0...random.uniform(below: 4)).map { _ in FrameFuzzTarget.frame(&random) }
        var stream: [UInt8] = []
        for frame in frames { FrameEncoder.append(frame, to: &stream) }
        switch InputShape.draw(&random) {
        case .valid:
            let (decoded, error) = try decodeStream(stream, random: &random)
            guard error == nil, decoded == frames else {
                throw FuzzFinding("valid stream of \(frames.count) frames decoded to \(decoded.count) frames, error \(String(describing: error))")
            }
        case .mutated:
            var other: [UInt8] = []
            FrameEncoder.append(FrameFuzzTarget.frame(&random), to: &other)
            var input = mutator.mutate(stream, other: other, random: &random)
            if random.chance(1, in: 2) { FrameFuzzTarget.fixChecksums(&input) }
            _ = try decodeStream(input, random: &random)
            try checkBody(Array(input.dropFirst(Frame.headerByteCount)))
        case .random:
            let input = mutator.randomBytes(random: &random)
            _ = try decodeStream(input, random: &random)
            try checkBody(input)
        }
    }

    /// Feeds `stream` in random read sizes, taking frames after every read, as a connection does.
    private func decodeStream(_ stream: [UInt8], random: inout SeededRandom) throws(FuzzFinding) -> ([Frame], FrameError?) {
        var decoder = FrameDecoder(frameBytesMax: FrameFuzzTarget.frameBytesMax)
        var frames: [Frame] = []
        var position = 0
        while position < stream.count {
            let read = min(stream.count - position, 1 + Int(random.uniform(below: UInt64(FrameFuzzTarget.readBytesMax))))
            decoder.feed(stream[position..<(position + read)])
            position += read
            // Bounded: each frame consumes at least a header's worth of bytes.
            for _ in 0...(stream.count / Frame.headerByteCount) {
                let frame: Frame?
                do {
                    frame = try decoder.nextFrame()
                } catch {
                    try checkSticky(&decoder, error)
                    return (frames, error)
                }
                guard let frame else { break }
                frames.append(frame)
            }
            guard decoder.bufferedByteCount <= FrameFuzzTarget.frameBytesMax + FrameFuzzTarget.readBytesMax else {
                throw FuzzFinding("decoder buffers \(decoder.bufferedByteCount) bytes, over one frame plus one read")
            }
        }
        for frame in frames { try checkReencoding(frame) }
        return (frames, nil)
    }

    private func checkSticky(_ decoder: inout FrameDecoder, _ error: FrameError) throws(FuzzFinding) {
        switch Result(catching: { () throws(FrameError) -> Frame? in try decoder.nextFrame() }) {
        case .success:
            throw FuzzFinding("decoder recovered after \(error)")
        case .failure(let again):
            guard again == error else { throw FuzzFinding("decoder error changed from \(error) to \(again)") }
        }
    }

    /// The body parser alone, on bytes that skipped the checksum.
    private func checkBody(_ body: [UInt8]) throws(FuzzFinding) {
        let result = body.withUnsafeBytes { raw in
            Result { () throws(FrameError) -> Frame in try FrameDecoder.decodeBody(raw) }
        }
        if case .success(let frame) = result { try checkReencoding(frame) }
    }

    private func checkReencoding(_ frame: Frame) throws(FuzzFinding) {
        var bytes: [UInt8] = []
        FrameEncoder.append(frame, to: &bytes)
        var decoder = FrameDecoder(frameBytesMax: max(FrameFuzzTarget.frameBytesMax, bytes.count + 1))
        decoder.feed(bytes)
        let again: Frame?
        do { again = try decoder.nextFrame() } catch { throw FuzzFinding("re-encoded frame fails to decode: \(error)") }
        guard again == frame else { throw FuzzFinding("frame does not survive re-encoding: \(frame)") }
    }

    /// Rewrites each frame's CRC32C over its (possibly mutated) body, walking the length fields.
    static func fixChecksums(_ stream: inout [UInt8]) {
        var position = 0
        while position + Frame.headerByteCount <= stream.count {
            let length = stream[position..<(position + 4)].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            let bodyStart = position + Frame.headerByteCount
            guard length > 0, bodyStart + length <= stream.count else { return }
            let checksum = stream[bodyStart..<(bodyStart + length)].withUnsafeBytes { CRC32C.checksum($0) }
            for offset in 0..<4 { stream[position + 4 + offset] = UInt8(truncatingIfNeeded: checksum >> (8 * UInt32(offset))) }
            position = bodyStart + length
        }
    }

    static func frame(_ random: inout SeededRandom) -> Frame {
        if random.chance(1, in: 4) {
            let cluster = String(decoding: random.bytes(random.length(max: 40)).map { 0x61 + $0 % 26 }, as: UTF8.self)
            return .handshake(Handshake(protocolVersion: UInt32(random.uniform(below: 3)), clusterID: cluster,
                                        sender: NodeID(random.uniform(below: 1_000)), receiver: NodeID(random.uniform(below: 1_000))))
        }
        let count = Int(random.uniform(below: 5))
        let envelopes = (0..<count).map { _ in
            Envelope(group: GroupID(random.chance(1, in: 8) ? UInt64.max : random.uniform(below: 100)),
                     payload: random.bytes(random.length(max: 600)))
        }
        return .envelopes(envelopes)
    }
}
