import MOMCore
import Raft

/// Raft's wire codec (`Message.encode` / `Message.decode`): a peer's bytes reach it straight
/// from the transport, so any byte string must decode or throw `DecodeError`.
///
/// Oracles: decode(encode(m)) == m for generated messages; any input decodes or throws
/// `DecodeError` (nothing else); whatever decodes re-encodes to bytes that decode to the same
/// message (the decoder accepts only what the encoder could have written, modulo varint form).
struct RaftMessageFuzzTarget: FuzzTarget {
    static let limits: Limits = {
        var limits = Limits()
        // Small enough that over-limit fields are reachable by mutation.
        limits.raftMessageBytesMax = 4 << 10
        limits.frameBytesMax = 16 << 10
        return limits
    }()
    let mutator = ByteMutator(lengthMax: 32 << 10)

    func run(random: inout SeededRandom) throws(FuzzFinding) {
        let message = RaftMessageFuzzTarget.message(&random)
        let encoded = message.encoded()
        let input: [UInt8]
        switch InputShape.draw(&random) {
        case .valid:
            let decoded = try decode(encoded)
            guard decoded == message else { throw FuzzFinding("round trip changed \(message) into \(String(describing: decoded))") }
            return
        case .mutated:
            input = mutator.mutate(encoded, other: RaftMessageFuzzTarget.message(&random).encoded(), random: &random)
        case .random:
            input = mutator.randomBytes(random: &random)
        }
        guard let decoded = try decode(input) else { return }
        let again = try decode(decoded.encoded())
        guard again == decoded else { throw FuzzFinding("decoded message does not survive re-encoding: \(decoded)") }
    }

    /// Decodes `bytes`; nil for a `DecodeError`, a finding for any other error.
    private func decode(_ bytes: [UInt8]) throws(FuzzFinding) -> Message? {
        do {
            return try Message.decode(bytes, limits: RaftMessageFuzzTarget.limits)
        } catch is DecodeError {
            return nil
        } catch {
            throw FuzzFinding("decode threw \(type(of: error)) (\(error)), not DecodeError")
        }
    }

    /// A random valid message of any kind, with entries after `index` and maybe a snapshot.
    static func message(_ random: inout SeededRandom) -> Message {
        let kind = MessageKind.allCases[Int(random.uniform(below: UInt64(MessageKind.allCases.count)))]
        let index = LogIndex(random.chance(1, in: 8) ? random.next() >> 1 : random.uniform(below: 1_000))
        var message = Message(
            kind: kind, from: NodeID(random.uniform(below: 10)), to: NodeID(random.uniform(below: 10)),
            term: Term(random.uniform(below: 100)), logTerm: Term(random.uniform(below: 100)), index: index,
            commit: LogIndex(random.uniform(below: 1_000)), reject: random.chance(1, in: 2),
            rejectHint: LogIndex(random.uniform(below: 1_000)), context: random.bytes(random.length(max: 64)))
        let entryCount = random.chance(1, in: 2) ? Int(random.uniform(below: 6)) : 0
        for position in 0..<entryCount {
            let entryIndex = LogIndex(index.rawValue + UInt64(position) + 1)
            if random.chance(1, in: 5) {
                let change = configChange(&random)
                message.entries.append(Entry(term: message.term, index: entryIndex, kind: .configChange, data: change.encoded()))
            } else {
                message.entries.append(Entry(term: message.term, index: entryIndex, data: random.bytes(random.length(max: 300))))
            }
        }
        if random.chance(1, in: 6) {
            var voters = Set<NodeID>()
            var learners = Set<NodeID>()
            for id in 1...UInt64(7) where random.chance(1, in: 2) {
                if random.chance(1, in: 3) { learners.insert(NodeID(id)) } else { voters.insert(NodeID(id)) }
            }
            let metadata = SnapshotMetadata(index: LogIndex(random.uniform(below: 1_000)), term: Term(random.uniform(below: 100)),
                                            configuration: Configuration(voters: voters, learners: learners))
            message.snapshot = Snapshot(metadata: metadata, data: random.bytes(random.length(max: 512)))
        }
        return message
    }

    static func configChange(_ random: inout SeededRandom) -> ConfigChange {
        let node = NodeID(1 + random.uniform(below: 9))
        switch random.uniform(below: 3) {
        case 0: return .addVoter(node)
        case 1: return .addLearner(node)
        default: return .removeNode(node)
        }
    }
}
