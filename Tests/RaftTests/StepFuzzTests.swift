import MOMCore
import Testing
@testable import Raft

/// Messages from a confused or corrupted peer may be well-formed on the wire yet nonsense. The
/// node must reject or ignore them, never trap.
@Suite struct StepFuzzTests {
    private static func randomValue(_ random: inout SeededRandom) -> UInt64 {
        switch random.uniform(below: 20) {
        case 0..<14: return random.uniform(below: 8)
        case 14..<18: return random.uniform(below: 40)
        case 18: return UInt64.max - random.uniform(below: 3)
        default: return random.next()
        }
    }

    private static func randomMessage(_ random: inout SeededRandom, to: NodeID) -> Message {
        let kinds = MessageKind.allCases
        var message = Message(kind: kinds[Int(random.uniform(below: UInt64(kinds.count)))],
                              from: NodeID(1 + random.uniform(below: 4)), to: to)
        message.term = Term(randomValue(&random))
        message.logTerm = Term(randomValue(&random))
        message.index = LogIndex(randomValue(&random))
        message.commit = LogIndex(randomValue(&random))
        message.reject = random.chance(1, in: 2)
        message.rejectHint = LogIndex(randomValue(&random))
        if random.chance(1, in: 3) && message.index.rawValue < UInt64.max - 8 {
            let count = random.uniform(below: 4)
            message.entries = (0..<count).map { offset in
                Entry(term: Term(randomValue(&random)), index: message.index.advanced(by: offset + 1), data: [1])
            }
        }
        if random.chance(1, in: 5) {
            let configuration = Configuration(voters: [NodeID(1 + random.uniform(below: 4))])
            message.snapshot = Snapshot(metadata: SnapshotMetadata(index: LogIndex(randomValue(&random)), term: Term(randomValue(&random)), configuration: configuration))
        }
        if random.chance(1, in: 3) { message.context = [UInt8(random.uniform(below: 3))] }
        return message
    }

    @Test func steppingNonsenseNeverTraps() throws {
        let seed = TestSeed.value(default: 0x57E9)
        var random = SeededRandom(seed: seed)
        for round in 0..<600 {
            let snapshot = Snapshot(metadata: SnapshotMetadata(index: LogIndex(3), term: Term(2), configuration: Configuration(voters: [NodeID(1), NodeID(2), NodeID(3)])))
            let storage = MemoryStorage(snapshot: snapshot)
            let node = try RawNode(config: RaftConfig(id: NodeID(2)), storage: storage, random: SeededRandom(seed: seed &+ UInt64(round)))
            if round % 2 == 0 {
                // Make it a leader first, so leader paths see the nonsense too.
                try node.campaign()
                try? node.step(Message(kind: .preVoteResponse, from: NodeID(1), to: NodeID(2), term: Term(3)))
                try? node.step(Message(kind: .voteResponse, from: NodeID(1), to: NodeID(2), term: Term(3)))
            }
            for _ in 0..<50 {
                let message = StepFuzzTests.randomMessage(&random, to: NodeID(2))
                // Only messages that survive the wire codec reach a real node.
                guard let decoded = try? Message.decode(message.encoded(), limits: .standard) else { continue }
                try? node.step(decoded)
                if random.chance(1, in: 4) { node.tick() }
                if node.hasReady() {
                    let ready = node.ready()
                    if let snapshot = ready.snapshot { try? storage.applySnapshot(snapshot) }
                    try storage.append(ready.entries)
                    if let hardState = ready.hardState { storage.setHardState(hardState) }
                    node.advance(ready)
                }
            }
        }
    }
}
