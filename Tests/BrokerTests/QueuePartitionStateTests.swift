import MOMCore
import Testing
@testable import Broker

/// A queue partition's log in memory: records get consecutive offsets, as the Raft log gives them.
struct QueueLog {
    var state: QueuePartitionState
    var next = Offset.zero
    var records: [(offset: Offset, record: PartitionRecord)] = []

    init(maxDeliveries: Int? = nil, limits: Limits = .standard) {
        state = QueuePartitionState(maxDeliveries: maxDeliveries, limits: limits)
    }

    @discardableResult
    mutating func append(_ record: PartitionRecord) -> QueueApplyResult {
        let offset = next
        next = next.next
        records.append((offset, record))
        return state.apply(record, at: offset)
    }

    @discardableResult
    mutating func produce(_ count: Int) -> [Offset] {
        (0..<count).map { _ in
            let offset = next
            append(.data(DataRecord(timestampMilliseconds: 0, value: [1])))
            return offset
        }
    }

    mutating func claim(_ offsets: [Offset], id: UInt64, at now: UInt64, timeout: UInt64 = 100) -> QueueClaimResult {
        let result = append(.queueClaim(QueueClaim(
            claimID: id, claimedAtMilliseconds: now, deadlineMilliseconds: now + timeout, offsets: offsets)))
        guard case .claim(let claim) = result else { fatalError("claim gave \(result)") }
        return claim
    }

    mutating func ack(_ entries: [(Offset, UInt64)]) -> [QueueAckOutcome] {
        let result = append(.queueAck(QueueAck(entries: entries.map { QueueAckEntry(offset: $0.0, claimID: $0.1) })))
        guard case .ack(let outcomes) = result else { fatalError("ack gave \(result)") }
        return outcomes
    }

    /// A fresh state rebuilt from the encoded log, as a new leader does after failover.
    func rebuilt() throws -> QueuePartitionState {
        var fresh = QueuePartitionState(maxDeliveries: state.maxDeliveries, limits: state.limits)
        for (offset, record) in records { _ = fresh.apply(try PartitionRecord.decode(record.encoded()), at: offset) }
        return fresh
    }
}

private func offsets(_ raw: UInt64...) -> [Offset] { raw.map(Offset.init) }

@Suite struct QueuePartitionStateTests {
    @Test func claimHidesMessagesUntilTheDeadline() {
        var log = QueueLog()
        log.produce(3)
        #expect(log.state.available(nowMilliseconds: 0, max: 10) == offsets(0, 1, 2))
        let claim = log.claim(offsets(0, 1), id: 7, at: 0)
        #expect(claim.claimed.map(\.deliveryCount) == [1, 1])
        #expect(claim.claimed.allSatisfy { $0.claimID == 7 && $0.deadlineMilliseconds == 100 })
        #expect(log.state.available(nowMilliseconds: 99, max: 10) == offsets(2))
        #expect(log.state.available(nowMilliseconds: 99, max: 0) == [])
        #expect(log.state.inFlight(nowMilliseconds: 99) == 2)
        #expect(log.state.depth == 3)
        #expect(log.state.available(nowMilliseconds: 100, max: 10) == offsets(0, 1, 2))
        #expect(log.state.inFlight(nowMilliseconds: 100) == 0)
    }

    @Test func expiredClaimRedeliversWithCountAndStaleReceiptIsRejected() {
        var log = QueueLog()
        log.produce(1)
        _ = log.claim(offsets(0), id: 1, at: 0)
        let second = log.claim(offsets(0), id: 2, at: 150)
        #expect(second.claimed.map(\.deliveryCount) == [2])
        #expect(log.ack([(Offset(0), 1)]) == [.stale])
        #expect(log.state.depth == 1)
        #expect(log.ack([(Offset(0), 2)]) == [.acknowledged])
        #expect(log.ack([(Offset(0), 2)]) == [.unknown])
        #expect(log.state.depth == 0 && log.state.acknowledgedCount == 1)
        #expect(log.state.available(nowMilliseconds: 10_000, max: 10).isEmpty)
    }

    @Test func expiredClaimNobodyReplacedStillAcks() {
        var log = QueueLog()
        log.produce(1)
        _ = log.claim(offsets(0), id: 1, at: 0)
        #expect(log.ack([(Offset(0), 1)]) == [.acknowledged])
    }

    @Test func invalidClaimsAreRejectedPerOffset() {
        var log = QueueLog()
        log.produce(2)  // 0, 1
        _ = log.claim(offsets(0), id: 1, at: 0)  // record at 2
        let result = log.claim(offsets(0, 1, 2, 50), id: 2, at: 10)  // record at 3
        #expect(result.claimed.map(\.offset) == offsets(1))
        #expect(result.rejected == offsets(0, 2, 50), "under claim, control record, not yet written")
        _ = log.ack([(Offset(1), 2)])
        #expect(log.claim(offsets(1), id: 3, at: 1000).rejected == offsets(1), "acked messages are never redelivered")
    }

    @Test func forgedReceiptIsHarmless() throws {
        var log = QueueLog()
        log.produce(1)
        let delivery = try #require(log.claim(offsets(0), id: 0xABCD, at: 0).claimed.first)
        let real = QueueReceipt(partition: PartitionID(3), delivery: delivery)
        let forged = QueueReceipt(partition: PartitionID(3), offset: Offset(0), deliveryCount: 1, claimID: 0xABCE)
        #expect(log.ack([(forged.offset, forged.claimID)]) == [.stale])
        #expect(log.state.depth == 1)
        let parsed = try QueueReceipt(text: real.text)
        #expect(parsed == real)
        #expect(log.ack([(parsed.offset, parsed.claimID)]) == [.acknowledged])
    }

    @Test(arguments: [
        "", "1-0-0-1", "2-0-0-1-000000000000abcd", "1-0-0-1-abcd", "1-x-0-1-000000000000abcd",
        "1--0-1-000000000000abcd", "1-+1-0-1-000000000000abcd", "1-0-0-1-000000000000ABCD", "1-0-0-1-000000000000abcd-",
        "1-4294967296-0-1-000000000000abcd", "1-0-18446744073709551616-1-000000000000abcd",
    ])
    func malformedReceiptsAre400(_ text: String) {
        do {
            _ = try QueueReceipt(text: text)
            Issue.record("parsed '\(text)'")
        } catch {
            #expect(error.status == 400)
        }
    }

    @Test func receiptTextIsStable() throws {
        let receipt = QueueReceipt(partition: PartitionID(2), offset: Offset(41), deliveryCount: 3, claimID: 0xFF)
        #expect(receipt.text == "1-2-41-3-00000000000000ff")
        let extreme = QueueReceipt(partition: PartitionID(.max), offset: Offset(.max), deliveryCount: .max, claimID: .max)
        #expect(try QueueReceipt(text: extreme.text) == extreme)
    }

    @Test func exhaustedMessagesNeedDeadLetteringAndThenLeave() {
        var log = QueueLog(maxDeliveries: 2)
        log.produce(2)
        _ = log.claim(offsets(0, 1), id: 1, at: 0)
        #expect(log.ack([(Offset(1), 1)]) == [.acknowledged])
        _ = log.claim(offsets(0), id: 2, at: 100)
        #expect(log.state.needsDeadLetter(nowMilliseconds: 150, max: 10).isEmpty, "still claimed")
        #expect(log.state.needsDeadLetter(nowMilliseconds: 200, max: 10) == offsets(0))
        #expect(log.state.available(nowMilliseconds: 200, max: 10).isEmpty)
        #expect(log.claim(offsets(0), id: 3, at: 300).rejected == offsets(0), "never a third delivery")
        let early = log.append(.queueDeadLettered(QueueDeadLettered(deadLetteredAtMilliseconds: 150, offsets: offsets(0))))
        #expect(early == .deadLettered(accepted: [], rejected: offsets(0)))
        let done = log.append(.queueDeadLettered(QueueDeadLettered(deadLetteredAtMilliseconds: 200, offsets: offsets(0, 1))))
        #expect(done == .deadLettered(accepted: offsets(0), rejected: offsets(1)))
        #expect(log.state.deadLetteredCount == 1 && log.state.depth == 0)
        #expect(log.state.needsDeadLetter(nowMilliseconds: 1000, max: 10).isEmpty)
    }

    @Test func withoutMaxDeliveriesNothingIsDeadLettered() {
        var log = QueueLog()
        log.produce(1)
        for round in 0..<5 { _ = log.claim(offsets(0), id: UInt64(round), at: UInt64(round) * 100) }
        #expect(log.state.state(of: Offset(0))?.deliveryCount == 5)
        #expect(log.state.needsDeadLetter(nowMilliseconds: 10_000, max: 10).isEmpty)
        let record = log.append(.queueDeadLettered(QueueDeadLettered(deadLetteredAtMilliseconds: 10_000, offsets: offsets(0))))
        #expect(record == .deadLettered(accepted: [], rejected: offsets(0)))
    }

    @Test func trackedMessagesAreBounded() {
        var limits = Limits()
        limits.queueTrackedMessagesMax = 2
        var log = QueueLog(limits: limits)
        log.produce(5)
        #expect(log.state.available(nowMilliseconds: 0, max: 10) == offsets(0, 1))
        let claim = log.claim(offsets(0, 1, 2), id: 1, at: 0)
        #expect(claim.rejected == offsets(2))
        #expect(log.state.available(nowMilliseconds: 0, max: 10).isEmpty)
        #expect(log.state.available(nowMilliseconds: 100, max: 10) == offsets(0, 1), "redeliveries still flow")
        _ = log.ack([(Offset(0), 1)])
        #expect(log.state.available(nowMilliseconds: 0, max: 10) == offsets(2))
    }

    @Test func claimsOutOfOrderSplitRunsAndFloorFollows() {
        var log = QueueLog()
        log.produce(10)
        #expect(log.state.ackFloor == Offset(0))
        _ = log.claim(offsets(5), id: 1, at: 0)
        #expect(Array(log.state.undeliveredRuns) == [0..<5, 6..<10])
        #expect(log.state.available(nowMilliseconds: 0, max: 6) == offsets(0, 1, 2, 3, 4, 6))
        #expect(log.state.available(nowMilliseconds: 100, max: 6) == offsets(0, 1, 2, 3, 4, 5))
        _ = log.claim(offsets(0, 1, 2, 3, 4), id: 2, at: 0)
        _ = log.ack((0..<5).map { (Offset($0), 2) })
        #expect(log.state.ackFloor == Offset(5))
        _ = log.ack([(Offset(5), 1)])
        #expect(log.state.ackFloor == Offset(6))
        #expect(log.state.depth == 4)
        _ = log.claim((6..<10).map(Offset.init), id: 3, at: 0)
        _ = log.ack((6..<10).map { (Offset($0), 3) })
        #expect(log.state.ackFloor == log.next, "everything done: the floor is the log end")
        #expect(log.state.depth == 0)
    }

    @Test func rebuildFromLogEqualsLiveState() throws {
        var log = QueueLog(maxDeliveries: 3)
        log.produce(4)
        _ = log.claim(offsets(0, 2), id: 9, at: 0)
        log.append(.noop)
        log.append(.subscriptionCommit(SubscriptionCommit(subscription: "s", subscriptionID: 1, offset: Offset(1))))
        log.produce(2)
        _ = log.ack([(Offset(2), 9)])
        #expect(try log.rebuilt() == log.state)
    }

    @Test func proposeClaimSkipsPendingOffsetsAndCapsTheBatch() throws {
        var limits = Limits()
        limits.queueBatchMessagesMax = 3
        var log = QueueLog(limits: limits)
        log.produce(6)
        let first = try #require(log.state.proposeClaim(nowMilliseconds: 5, max: 10, ackTimeoutMilliseconds: 30, claimID: 1))
        #expect(first.offsets == offsets(0, 1, 2))
        #expect(first.claimedAtMilliseconds == 5 && first.deadlineMilliseconds == 35)
        let second = try #require(log.state.proposeClaim(
            nowMilliseconds: 5, max: 10, ackTimeoutMilliseconds: .max, claimID: 2, excluding: Set(first.offsets)))
        #expect(second.offsets == offsets(3, 4, 5))
        #expect(second.deadlineMilliseconds == .max, "saturates instead of overflowing")
        log.append(.queueClaim(first))
        log.append(.queueClaim(second))
        #expect(log.state.proposeClaim(nowMilliseconds: 6, max: 10, ackTimeoutMilliseconds: 30, claimID: 3) == nil)
    }

    @Test func backlogCostsOneRunPerInterleaving() {
        var log = QueueLog()
        log.produce(10_000)
        #expect(log.state.undeliveredRuns.count == 1)
        #expect(log.state.depth == 10_000)
        log.append(.noop)
        log.produce(5)
        #expect(log.state.undeliveredRuns.count == 2)
        #expect(log.state.available(nowMilliseconds: 0, max: 3) == offsets(0, 1, 2))
        #expect(log.state.tracked.isEmpty, "never-delivered messages hold no per-message state")
    }
}
