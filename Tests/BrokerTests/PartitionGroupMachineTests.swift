import MOMCore
import Raft
import Replication
import Testing
@testable import Broker

/// The queue leader's bookkeeping in `PartitionGroupMachine`: verdicts are kept only while a
/// proposal waits for one, reservations come and go, and a replica rebuilds the same state
/// from the same entries (what a new leader does after failover).
@Suite struct PartitionGroupMachineTests {
    static func entries(_ records: [PartitionRecord], from first: UInt64 = 1) -> [Entry] {
        records.enumerated().map { Entry(term: Term(1), index: LogIndex(first + UInt64($0.offset)), data: $0.element.encoded()) }
    }

    static let owner = GroupOwner(destinationType: .queue, name: "q", partition: PartitionID(0))

    @Test func verdictsAreKeptOnlyForWaiters() throws {
        let machine = PartitionGroupMachine(owner: Self.owner, isQueue: true, maxDeliveries: 2, limits: .standard)
        let data = PartitionRecord.data(DataRecord(timestampMilliseconds: 1, value: [7]))
        let claim = PartitionRecord.queueClaim(QueueClaim(claimID: 5, claimedAtMilliseconds: 10, deadlineMilliseconds: 20, offsets: [Offset(0)]))
        machine.apply(Self.entries([data, claim]), group: GroupID(1))
        machine.expectVerdict()
        #expect(machine.takeVerdict(at: Offset(1)) == nil, "nobody waited when the claim applied")

        machine.expectVerdict()
        let ack = PartitionRecord.queueAck(QueueAck(entries: [QueueAckEntry(offset: Offset(0), claimID: 5)]))
        machine.apply(Self.entries([ack], from: 3), group: GroupID(1))
        #expect(machine.takeVerdict(at: Offset(2)) == .ack([.acknowledged]))
        #expect(machine.appliedEnd == Offset(3))

        machine.reserve([Offset(4), Offset(5)])
        machine.release([Offset(4)])
        #expect(machine.reservedOffsets == [Offset(5)])
    }

    @Test func replicasRebuildTheSameQueueState() throws {
        var records: [PartitionRecord] = (0..<6).map { PartitionRecord.data(DataRecord(timestampMilliseconds: UInt64($0), value: [UInt8($0)])) }
        records.append(.queueClaim(QueueClaim(claimID: 1, claimedAtMilliseconds: 100, deadlineMilliseconds: 200, offsets: [Offset(0), Offset(1), Offset(2)])))
        records.append(.queueAck(QueueAck(entries: [QueueAckEntry(offset: Offset(1), claimID: 1)])))
        records.append(.queueClaim(QueueClaim(claimID: 2, claimedAtMilliseconds: 250, deadlineMilliseconds: 300, offsets: [Offset(0), Offset(3)])))
        let leader = PartitionGroupMachine(owner: Self.owner, isQueue: true, maxDeliveries: 3, limits: .standard)
        let follower = PartitionGroupMachine(owner: Self.owner, isQueue: true, maxDeliveries: 3, limits: .standard)
        let all = Self.entries(records)
        leader.apply(all, group: GroupID(1))
        // The follower gets the same entries in other batch sizes.
        follower.apply(Array(all.prefix(4)), group: GroupID(1))
        follower.apply(Array(all.dropFirst(4)), group: GroupID(1))
        #expect(leader.state == follower.state)
        let queue = try #require(follower.state.queue)
        #expect(queue.state(of: Offset(0))?.deliveryCount == 2)
        #expect(queue.state(of: Offset(1)) == nil, "acked")
        #expect(queue.statistics(nowMilliseconds: 260) == QueuePartitionStatistics(depth: 3, inFlight: 2, deadLettered: 0, acknowledged: 1))
    }
}
