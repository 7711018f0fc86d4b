import MOMCore
import Testing
@testable import Broker

@Suite struct SubscriptionCursorsTests {
    private let billing = SubscriptionConfig(
        topic: "orders", name: "billing", id: 4, start: .latest, startOffsets: [Offset(10), Offset(20)])

    private func commit(_ name: String, id: UInt64, _ offset: UInt64) -> PartitionRecord {
        .subscriptionCommit(SubscriptionCommit(subscription: name, subscriptionID: id, offset: Offset(offset)))
    }

    @Test func startsAtTheCatalogOffsetThenFollowsCommits() {
        var cursors = SubscriptionCursors()
        #expect(cursors.position(of: billing, partition: PartitionID(1)) == Offset(20))
        #expect(cursors.lag(of: billing, partition: PartitionID(1), highWatermark: Offset(25)) == 5)
        cursors.apply(commit("billing", id: 4, 23))
        #expect(cursors.position(of: billing, partition: PartitionID(1)) == Offset(23))
        #expect(cursors.lag(of: billing, partition: PartitionID(1), highWatermark: Offset(25)) == 2)
        #expect(cursors.lag(of: billing, partition: PartitionID(1), highWatermark: Offset(20)) == 0, "never negative")
        cursors.apply(commit("billing", id: 4, 3))
        #expect(cursors.position(of: billing, partition: PartitionID(1)) == Offset(3), "rewinds are allowed, as in Kafka")
    }

    @Test func olderIncarnationsCannotMoveANewCursor() {
        var cursors = SubscriptionCursors()
        #expect(cursors.apply(SubscriptionCommit(subscription: "billing", subscriptionID: 4, offset: Offset(30))) == .committed)
        #expect(cursors.apply(SubscriptionCommit(subscription: "billing", subscriptionID: 3, offset: Offset(99))) == .staleIncarnation)
        #expect(cursors.position(of: billing, partition: PartitionID(0)) == Offset(30))
        // A cursor of an older incarnation is ignored by a recreated subscription.
        let recreated = SubscriptionConfig(topic: "orders", name: "billing", id: 5, start: .earliest, startOffsets: [.zero, .zero])
        #expect(cursors.position(of: recreated, partition: PartitionID(0)) == .zero)
        cursors.apply(.subscriptionDelete(SubscriptionDelete(subscription: "billing", subscriptionID: 4)))
        #expect(cursors.cursors.isEmpty)
    }

    @Test func deleteOfAnOlderIncarnationKeepsTheNewCursor() {
        var cursors = SubscriptionCursors()
        cursors.apply(commit("billing", id: 5, 1))
        cursors.apply(.subscriptionDelete(SubscriptionDelete(subscription: "billing", subscriptionID: 4)))
        #expect(cursors.cursors["billing"]?.offset == Offset(1))
    }

    @Test func boundedWithDeterministicEviction() {
        var limits = Limits()
        limits.subscriptionsPerTopicMax = 2
        var cursors = SubscriptionCursors(limits: limits)
        cursors.apply(commit("b", id: 7, 1))
        cursors.apply(commit("a", id: 2, 1))
        cursors.apply(commit("c", id: 9, 1))
        #expect(Set(cursors.cursors.keys) == ["b", "c"], "the lowest incarnation went")
    }

    @Test func rebuildFromLogEqualsLiveCursors() throws {
        var live = SubscriptionCursors()
        var records: [PartitionRecord] = []
        var random = SeededRandom(seed: TestSeed.seeds(count: 1, base: 3)[0])
        for _ in 0..<200 {
            let record = random.chance(1, in: 10)
                ? PartitionRecord.subscriptionDelete(SubscriptionDelete(subscription: "s\(random.uniform(below: 3))", subscriptionID: random.uniform(below: 3)))
                : commit("s\(random.uniform(below: 3))", id: random.uniform(below: 3), random.uniform(below: 100))
            records.append(record)
            live.apply(record)
        }
        var rebuilt = SubscriptionCursors()
        for record in records { rebuilt.apply(try PartitionRecord.decode(record.encoded())) }
        #expect(rebuilt == live)
    }
}
