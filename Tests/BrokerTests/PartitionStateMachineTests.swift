import MOMCore
import Testing
@testable import Broker

@Suite struct PartitionStateMachineTests {
    @Test func topicPartitionTracksDedupAndCursors() throws {
        var machine = PartitionStateMachine()
        let data = PartitionRecord.data(DataRecord(
            timestampMilliseconds: 1, value: [1], producer: ProducerStamp(producerID: 9, sequence: 0, indexInBatch: 0)))
        let first = try machine.apply(entry: data.encoded(), at: Offset(0))
        #expect(first.record == .data(producer: ProducerStamp(producerID: 9, sequence: 0, indexInBatch: 0)) && first.queueResult == .none)
        _ = try machine.apply(entry: [], at: Offset(1))
        _ = try machine.apply(
            entry: PartitionRecord.subscriptionCommit(SubscriptionCommit(subscription: "s", subscriptionID: 1, offset: Offset(1))).encoded(),
            at: Offset(2))
        #expect(machine.queue == nil)
        #expect(machine.cursors.cursors["s"]?.offset == Offset(1))
        #expect(machine.dedup.lookup(producerID: 9, sequence: 0) == .duplicate(records: [.init(indexInBatch: 0, offset: Offset(0))]))
        #expect(throws: DecodeError.self) { try machine.apply(entry: [1, 99], at: Offset(3)) }
    }

    @Test func queuePartitionReturnsClaimVerdicts() throws {
        var machine = PartitionStateMachine(queueMaxDeliveries: 3, startOffset: Offset(100))
        _ = try machine.apply(entry: PartitionRecord.samplesData.encoded(), at: Offset(100))
        let claim = PartitionRecord.queueClaim(QueueClaim(
            claimID: 5, claimedAtMilliseconds: 0, deadlineMilliseconds: 10, offsets: [Offset(99), Offset(100)]))
        let result = try machine.apply(entry: claim.encoded(), at: Offset(101))
        guard case .claim(let verdict) = result.queueResult else {
            Issue.record("expected a claim verdict, got \(result.queueResult)")
            return
        }
        #expect(verdict.claimed.map(\.offset) == [Offset(100)])
        #expect(verdict.rejected == [Offset(99)])
        #expect(machine.queue?.depth == 1)
    }
}
