import MOMCore
import Testing
@testable import Transport

@Suite struct FrameCodecTests {
    static let frameBytesMax = 1 << 20

    static let sampleFrames: [Frame] = [
        .handshake(Handshake(clusterID: "mom-prod", sender: NodeID(1), receiver: NodeID(3))),
        .envelopes([
            Envelope(group: GroupID(0), payload: []),
            Envelope(group: GroupID(7), payload: Array("append".utf8)),
            Envelope(group: .nodeLevel, payload: [UInt8](repeating: 0x5A, count: 300)),
        ]),
        .envelopes([]),
        .envelopes((0..<100).map { Envelope(group: GroupID(UInt64($0) << 40), payload: [UInt8(truncatingIfNeeded: $0)]) }),
    ]

    static func encoded(_ frames: [Frame]) -> [UInt8] {
        var bytes: [UInt8] = []
        for frame in frames { FrameEncoder.append(frame, to: &bytes) }
        return bytes
    }

    static func decodeAll(_ decoder: inout FrameDecoder) throws(FrameError) -> [Frame] {
        var frames: [Frame] = []
        while let frame = try decoder.nextFrame() { frames.append(frame) }
        return frames
    }

    @Test func roundTripsEveryFrameKind() throws {
        var decoder = FrameDecoder(frameBytesMax: Self.frameBytesMax)
        decoder.feed(Self.encoded(Self.sampleFrames))
        #expect(try Self.decodeAll(&decoder) == Self.sampleFrames)
        #expect(decoder.bufferedByteCount == 0)
    }

    @Test func encodedByteCountMatchesTheWire() {
        let envelopes = [Envelope(group: GroupID(300), payload: [UInt8](repeating: 1, count: 200)),
                         Envelope(group: .nodeLevel, payload: [])]
        var bytes: [UInt8] = []
        FrameEncoder.appendEnvelopes(envelopes, to: &bytes)
        // header + kind + one-byte count + the envelopes
        #expect(bytes.count == Frame.headerByteCount + 1 + 1 + envelopes.reduce(0) { $0 + $1.encodedByteCount })
    }

    @Test func decodesWhateverTheReadSplits() throws {
        let seed = testSeed()
        var random = SeededRandom(seed: seed)
        let stream = Self.encoded(Self.sampleFrames + Self.sampleFrames)
        for _ in 0..<200 {
            var decoder = FrameDecoder(frameBytesMax: Self.frameBytesMax)
            var frames: [Frame] = []
            var position = 0
            while position < stream.count {
                let chunk = min(stream.count - position, random.uniform(in: 1...64))
                decoder.feed(stream[position..<(position + chunk)])
                position += chunk
                frames += try Self.decodeAll(&decoder)
            }
            #expect(frames == Self.sampleFrames + Self.sampleFrames, "seed \(seed)")
            #expect(decoder.bufferedByteCount == 0, "seed \(seed)")
        }
    }

    @Test func rejectsACorruptBody() {
        var bytes = Self.encoded([Self.sampleFrames[1]])
        bytes[Frame.headerByteCount + 5] ^= 0x01
        var decoder = FrameDecoder(frameBytesMax: Self.frameBytesMax)
        decoder.feed(bytes)
        #expect {
            _ = try decoder.nextFrame()
        } throws: { error in
            if case FrameError.checksumMismatch = error { return true }
            return false
        }
        // The decoder stays failed: the connection is going away.
        #expect(throws: FrameError.self) { _ = try decoder.nextFrame() }
    }

    @Test func rejectsAnOversizeLengthBeforeTheBodyArrives() {
        var decoder = FrameDecoder(frameBytesMax: 1024)
        decoder.feed(Self.header(bodyLength: 1024 - Frame.headerByteCount + 1, checksum: 0))
        #expect(throws: FrameError.bodyLengthOutOfRange(length: 1017, limit: 1016)) { _ = try decoder.nextFrame() }

        var hostile = FrameDecoder(frameBytesMax: Self.frameBytesMax)
        hostile.feed(Self.header(bodyLength: Int(UInt32.max), checksum: 0))
        #expect(throws: FrameError.self) { _ = try hostile.nextFrame() }

        var empty = FrameDecoder(frameBytesMax: Self.frameBytesMax)
        empty.feed(Self.header(bodyLength: 0, checksum: 0))
        #expect(throws: FrameError.self) { _ = try empty.nextFrame() }
    }

    @Test func rejectsMalformedBodiesWithValidChecksums() {
        let unknownKind: [UInt8] = [9]
        let trailing: [UInt8] = [2, 0, 0xFF]                  // zero envelopes, then a stray byte
        let forgedCount: [UInt8] = [2, 0xFF, 0xFF, 0x03, 1, 0] // count 65535 in 2 bytes
        let truncatedPayload: [UInt8] = [2, 1, 5, 10, 1, 2]    // payload says 10 bytes, has 2
        let longClusterID: [UInt8] = [1, 1, 0x80, 0x02] + [UInt8](repeating: 0x61, count: 256) + [1, 2] // 256 > 255
        for body in [unknownKind, trailing, forgedCount, truncatedPayload, longClusterID] {
            var decoder = FrameDecoder(frameBytesMax: Self.frameBytesMax)
            decoder.feed(Self.header(bodyLength: body.count, checksum: CRC32C.checksum(body)) + body)
            #expect(throws: FrameError.self, "body \(body.prefix(8))") { _ = try decoder.nextFrame() }
        }
    }

    /// Flipping any bit of a valid stream never traps and never yields a wrong frame: the decoder
    /// returns a prefix of the original frames, then throws or waits for bytes that never come.
    @Test func bitFlipsNeverYieldWrongFrames() {
        let seed = testSeed()
        var random = SeededRandom(seed: seed)
        let stream = Self.encoded(Self.sampleFrames)
        for _ in 0..<2_000 {
            var corrupted = stream
            let bit = Int(random.uniform(below: UInt64(stream.count * 8)))
            corrupted[bit / 8] ^= UInt8(1) << UInt8(bit % 8)
            var decoder = FrameDecoder(frameBytesMax: Self.frameBytesMax)
            decoder.feed(corrupted)
            var frames: [Frame] = []
            while let frame = try? decoder.nextFrame() { frames.append(frame) }
            let isIntactPrefix = frames.count < Self.sampleFrames.count
                && Array(Self.sampleFrames.prefix(frames.count)) == frames
            #expect(isIntactPrefix, "seed \(seed), bit \(bit): decoded a frame the sender never sent")
            if !isIntactPrefix { break }
        }
    }

    @Test func randomBytesNeverTrap() {
        let seed = testSeed()
        var random = SeededRandom(seed: seed)
        var rejected = 0
        for _ in 0..<2_000 {
            let count = random.uniform(in: 0...256)
            var bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if count >= 8, random.chance(1, in: 2) {
                // A plausible length and a right checksum, so the body parser is exercised too.
                let body = Array(bytes[8...])
                bytes.replaceSubrange(0..<8, with: Self.header(bodyLength: body.count, checksum: CRC32C.checksum(body)))
            }
            var decoder = FrameDecoder(frameBytesMax: 4096)
            decoder.feed(bytes)
            do {
                while try decoder.nextFrame() != nil {}
            } catch {
                rejected += 1
            }
        }
        #expect(rejected > 0, "seed \(seed)")
    }

    static func header(bodyLength: Int, checksum: UInt32) -> [UInt8] {
        var bytes: [UInt8] = []
        withUnsafeBytes(of: UInt32(truncatingIfNeeded: bodyLength).littleEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: checksum.littleEndian) { bytes.append(contentsOf: $0) }
        return bytes
    }
}
