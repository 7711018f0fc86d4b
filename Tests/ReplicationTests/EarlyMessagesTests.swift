import MOMCore
import Raft
import Testing
@testable import Replication

/// Messages for a group not hosted yet: kept in order, bounded, replayed once, expired.
@Suite struct EarlyMessagesTests {
    static func vote(from: UInt64, term: UInt64) -> Message {
        var message = Message(kind: .vote, from: NodeID(from), to: NodeID(2))
        message.term = Term(term)
        return message
    }

    @Test func keptInOrderAndTakenOnce() {
        var early = EarlyMessages(maxAgeTicks: 10)
        let result1 = early.keep(Self.vote(from: 1, term: 1), from: NodeID(1), group: GroupID(5), tick: 0)
        #expect(result1)
        let result2 = early.keep(Self.vote(from: 3, term: 2), from: NodeID(3), group: GroupID(5), tick: 1)
        #expect(result2)
        let result3 = early.keep(Self.vote(from: 1, term: 1), from: NodeID(1), group: GroupID(6), tick: 1)
        #expect(result3)
        let result4 = early.take(GroupID(5))
        #expect(result4.map(\.message.term) == [Term(1), Term(2)])
        let result5 = early.take(GroupID(5))
        #expect(result5.isEmpty, "taken once")
        #expect(early.count == 1)
    }

    @Test func boundsRefuseWhatDoesNotFit() {
        var early = EarlyMessages(perGroupMax: 2, totalMax: 3, bytesMax: 1_000, maxAgeTicks: 10)
        let result6 = early.keep(Self.vote(from: 1, term: 1), from: NodeID(1), group: GroupID(1), tick: 0)
        #expect(result6)
        let result7 = early.keep(Self.vote(from: 1, term: 2), from: NodeID(1), group: GroupID(1), tick: 0)
        #expect(result7)
        let result8 = early.keep(Self.vote(from: 1, term: 3), from: NodeID(1), group: GroupID(1), tick: 0)
        #expect(!result8, "per-group bound")
        let result9 = early.keep(Self.vote(from: 1, term: 1), from: NodeID(1), group: GroupID(2), tick: 0)
        #expect(result9)
        let result10 = early.keep(Self.vote(from: 1, term: 1), from: NodeID(1), group: GroupID(3), tick: 0)
        #expect(!result10, "total bound")
        var large = Message(kind: .append, from: NodeID(1), to: NodeID(2))
        large.entries = [Entry(term: Term(1), index: LogIndex(1), kind: .normal, data: [UInt8](repeating: 7, count: 2_000))]
        var roomy = EarlyMessages(maxAgeTicks: 10)
        var tight = EarlyMessages(bytesMax: 1_000, maxAgeTicks: 10)
        let result11 = roomy.keep(large, from: NodeID(1), group: GroupID(1), tick: 0)
        #expect(result11)
        let result12 = tight.keep(large, from: NodeID(1), group: GroupID(1), tick: 0)
        #expect(!result12, "byte bound")
        #expect(roomy.bytes >= 2_000 && tight.bytes == 0)
    }

    @Test func oldMessagesExpire() {
        var early = EarlyMessages(maxAgeTicks: 3)
        early.keep(Self.vote(from: 1, term: 1), from: NodeID(1), group: GroupID(1), tick: 0)
        early.keep(Self.vote(from: 1, term: 2), from: NodeID(1), group: GroupID(1), tick: 2)
        early.expire(tick: 3)
        #expect(early.count == 2, "both are at most 3 ticks old")
        early.expire(tick: 4)
        #expect(early.count == 1)
        let result13 = early.take(GroupID(1))
        #expect(result13.map(\.message.term) == [Term(2)])
        #expect(early.count == 0 && early.bytes == 0)
    }
}
