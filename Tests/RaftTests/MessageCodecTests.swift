import MOMCore
import Testing
@testable import Raft

@Suite struct MessageCodecTests {
    static func sample(_ kind: MessageKind) -> Message {
        Message(
            kind: kind, from: NodeID(3), to: NodeID(70_000), term: Term(9), logTerm: Term(8),
            index: LogIndex(41), entries: [
                Entry(term: Term(8), index: LogIndex(42), kind: .normal, data: Array("hello".utf8)),
                Entry(term: Term(9), index: LogIndex(43), kind: .configChange, data: ConfigChange.addLearner(NodeID(5)).encoded()),
                Entry(term: Term(9), index: LogIndex(44)),
            ],
            commit: LogIndex(40), reject: true, rejectHint: LogIndex(17),
            snapshot: Snapshot(
                metadata: SnapshotMetadata(index: LogIndex(30), term: Term(7),
                                           configuration: Configuration(voters: [NodeID(1), NodeID(2)], learners: [NodeID(5)])),
                data: [0, 1, 2, 255]),
            context: Array("ctx".utf8))
    }

    @Test(arguments: MessageKind.allCases)
    func roundTripsEveryKind(_ kind: MessageKind) throws {
        let message = MessageCodecTests.sample(kind)
        #expect(try Message.decode(message.encoded(), limits: .standard) == message)
        let minimal = Message(kind: kind, from: NodeID(1), to: NodeID(2))
        #expect(try Message.decode(minimal.encoded(), limits: .standard) == minimal)
    }

    @Test func everyTruncationThrows() {
        let bytes = MessageCodecTests.sample(.append).encoded()
        for length in 0..<bytes.count {
            #expect(throws: DecodeError.self) { try Message.decode(Array(bytes.prefix(length)), limits: .standard) }
        }
    }

    @Test func trailingBytesAreRejected() {
        let bytes = MessageCodecTests.sample(.heartbeat).encoded() + [0]
        #expect(throws: DecodeError.self) { try Message.decode(bytes, limits: .standard) }
    }

    @Test func rejectsBadVersionKindAndBoolean() {
        var bytes = Message(kind: .vote, from: NodeID(1), to: NodeID(2)).encoded()
        bytes[0] = 2
        #expect(throws: DecodeError.invalid("raft message version 2")) { try Message.decode(bytes, limits: .standard) }
        bytes[0] = Message.wireVersion
        bytes[1] = 200
        #expect(throws: DecodeError.invalid("raft message kind 200")) { try Message.decode(bytes, limits: .standard) }
        bytes[1] = MessageKind.vote.rawValue
        // version, kind, 6 one-byte varints (from, to, term, logTerm, index, commit), then reject.
        bytes[8] = 7
        #expect(throws: DecodeError.invalid("boolean byte 7")) { try Message.decode(bytes, limits: .standard) }
    }

    @Test func rejectsEntriesThatDoNotFollowTheIndex() {
        var message = Message(kind: .append, from: NodeID(1), to: NodeID(2), index: LogIndex(5))
        message.entries = [Entry(term: Term(1), index: LogIndex(6)), Entry(term: Term(1), index: LogIndex(8))]
        #expect(throws: DecodeError.self) { try Message.decode(message.encoded(), limits: .standard) }
        message.entries = [Entry(term: Term(1), index: LogIndex(5))]
        #expect(throws: DecodeError.self) { try Message.decode(message.encoded(), limits: .standard) }
    }

    @Test func rejectsUndecodableConfigChangeEntries() {
        var message = Message(kind: .append, from: NodeID(1), to: NodeID(2))
        message.entries = [Entry(term: Term(1), index: LogIndex(1), kind: .configChange, data: [9, 1])]
        #expect(throws: DecodeError.invalid("config change tag 9")) { try Message.decode(message.encoded(), limits: .standard) }
    }

    @Test func rejectsOversizedData() {
        var limits = Limits()
        limits.raftMessageBytesMax = 4
        var message = Message(kind: .append, from: NodeID(1), to: NodeID(2))
        message.entries = [Entry(term: Term(1), index: LogIndex(1), data: [1, 2, 3, 4, 5])]
        #expect(throws: DecodeError.lengthTooLarge(5, limit: 4)) { try Message.decode(message.encoded(), limits: limits) }
    }

    @Test func rejectsInconsistentConfigurations() {
        // voters {1}, learners {1}: a node in two roles.
        var writer = BinaryWriter()
        for set: [UInt64] in [[1], [1], []] {
            writer.write(varint: UInt64(set.count))
            for id in set { writer.write(varint: id) }
        }
        #expect(throws: DecodeError.self) { try decodeConfiguration(writer.bytes) }
        // voters {2, 2}: a duplicate.
        var duplicate = BinaryWriter()
        duplicate.write(varint: 2); duplicate.write(varint: 2); duplicate.write(varint: 2)
        duplicate.write(varint: 0); duplicate.write(varint: 0)
        #expect(throws: DecodeError.invalid("duplicate node in configuration")) { try decodeConfiguration(duplicate.bytes) }
        // A count far beyond the bytes present.
        var huge = BinaryWriter()
        huge.write(varint: UInt64.max)
        #expect(throws: DecodeError.self) { try decodeConfiguration(huge.bytes) }
    }

    private func decodeConfiguration(_ bytes: [UInt8]) throws -> Configuration {
        try bytes.withUnsafeBytes { raw in
            var reader = BinaryReader(raw)
            return try Configuration.decode(from: &reader)
        }
    }

    @Test func configChangesRoundTrip() throws {
        for change in [ConfigChange.addVoter(NodeID(1)), .addLearner(NodeID(UInt64.max)), .removeNode(NodeID(300))] {
            #expect(try ConfigChange.decode(change.encoded()) == change)
        }
        #expect(throws: DecodeError.self) { try ConfigChange.decode([]) }
        #expect(throws: DecodeError.self) { try ConfigChange.decode([0, 1, 2]) }
    }

    /// Random bytes and random mutations of valid messages either decode (and then re-encode
    /// to something that decodes equal) or throw; they never trap.
    @Test func fuzzedInputIsTotal() throws {
        let seed = TestSeed.value(default: 0xC0DEC)
        var random = SeededRandom(seed: seed)
        let valid = MessageKind.allCases.map { MessageCodecTests.sample($0).encoded() }
        var decodedCount = 0
        for _ in 0..<3_000 {
            var bytes: [UInt8]
            if random.chance(1, in: 2) {
                bytes = valid[Int(random.uniform(below: UInt64(valid.count)))]
                for _ in 0..<(1 + random.uniform(below: 4)) {
                    bytes[Int(random.uniform(below: UInt64(bytes.count)))] = UInt8(truncatingIfNeeded: random.next())
                }
            } else {
                bytes = (0..<random.uniform(below: 64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                if !bytes.isEmpty { bytes[0] = Message.wireVersion }
            }
            guard let message = try? Message.decode(bytes, limits: .standard) else { continue }
            decodedCount += 1
            #expect(try Message.decode(message.encoded(), limits: .standard) == message, "seed \(seed)")
        }
        #expect(decodedCount > 0, "seed \(seed): the fuzzer never produced a decodable message")
    }
}
