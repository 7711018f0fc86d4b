import MOMCore
import Testing
@testable import Broker

/// Random produce / receive / ack / dead-letter / time schedules against a queue partition,
/// checked against a plain reference model of what at-least-once delivery allows.
@Suite struct QueueRandomizedTests {
    /// The reference: what each message's last claim was, and which messages are done.
    struct Model {
        var produced: [Offset] = []
        var lastClaim: [Offset: (id: UInt64, deadline: UInt64, count: UInt32)] = [:]
        var acked = Set<Offset>()
        var deadLettered = Set<Offset>()
    }

    @Test func invariantsHoldUnderRandomSchedules() throws {
        for seed in TestSeed.seeds(count: 30, base: 42) {
            try run(seed: seed)
        }
    }

    private func run(seed: UInt64) throws {
        var random = SeededRandom(seed: seed)
        let maxDeliveries: Int? = random.chance(2, in: 3) ? random.uniform(in: 1...4) : nil
        var limits = Limits()
        limits.queueTrackedMessagesMax = random.uniform(in: 3...50)
        var log = QueueLog(maxDeliveries: maxDeliveries, limits: limits)
        var model = Model()
        var now: UInt64 = 0
        var receipts: [QueueReceipt] = []
        let where_ = "MOM_SEED=\(seed)"
        for _ in 0..<400 {
            switch random.uniform(below: 6) {
            case 0: model.produced += log.produce(random.uniform(in: 1...5))
            case 1: receive(&log, &model, &receipts, &random, now: now, seed: seed)
            case 2: acknowledge(&log, &model, &receipts, &random, seed: seed)
            case 3: deadLetter(&log, &model, now: now, seed: seed)
            case 4: now += random.uniform(below: 80)
            default: forge(&log, &model, &random, now: now, seed: seed)
            }
            check(log.state, model, now: now, maxDeliveries: maxDeliveries, limits: limits, seed: seed)
        }
        #expect(try log.rebuilt() == log.state, "\(where_): rebuild from the log differs")
        // Nothing is lost: once every claim expires, each message is done, offered, or awaiting the dead-letter queue.
        let later = now + 1_000
        let offered = Set(log.state.available(nowMilliseconds: later, max: .max))
        let exhausted = Set(log.state.needsDeadLetter(nowMilliseconds: later, max: .max))
        let room = limits.queueTrackedMessagesMax - log.state.tracked.count
        let freshOffered = offered.filter { log.state.state(of: $0) == nil }.count
        for offset in model.produced where !model.acked.contains(offset) && !model.deadLettered.contains(offset) {
            let neverDelivered = log.state.state(of: offset) == nil
            let accounted = offered.contains(offset) || exhausted.contains(offset) || (neverDelivered && freshOffered == room)
            #expect(accounted, "\(where_): message \(offset) is stuck")
        }
    }

    private func receive(
        _ log: inout QueueLog, _ model: inout Model, _ receipts: inout [QueueReceipt], _ random: inout SeededRandom,
        now: UInt64, seed: UInt64
    ) {
        let offered = log.state.available(nowMilliseconds: now, max: random.uniform(in: 1...6))
        let claimID = random.next()
        let result = log.claim(offered, id: claimID, at: now, timeout: UInt64(random.uniform(in: 1...120)))
        #expect(result.rejected.isEmpty, "MOM_SEED=\(seed): a claim of available() offsets was rejected")
        record(result, into: &model, &receipts, now: now, seed: seed)
    }

    private func record(
        _ result: QueueClaimResult, into model: inout Model, _ receipts: inout [QueueReceipt], now: UInt64, seed: UInt64
    ) {
        for delivery in result.claimed {
            let previous = model.lastClaim[delivery.offset]
            #expect(!model.acked.contains(delivery.offset), "MOM_SEED=\(seed): acked \(delivery.offset) redelivered")
            #expect(!model.deadLettered.contains(delivery.offset), "MOM_SEED=\(seed): dead-lettered \(delivery.offset) redelivered")
            #expect(previous.map { $0.deadline <= now } ?? true, "MOM_SEED=\(seed): \(delivery.offset) held by two claims")
            #expect(delivery.deliveryCount == (previous?.count ?? 0) + 1, "MOM_SEED=\(seed): delivery count skipped")
            model.lastClaim[delivery.offset] = (delivery.claimID, delivery.deadlineMilliseconds, delivery.deliveryCount)
            receipts.append(QueueReceipt(partition: PartitionID(0), delivery: delivery))
        }
    }

    private func acknowledge(
        _ log: inout QueueLog, _ model: inout Model, _ receipts: inout [QueueReceipt], _ random: inout SeededRandom, seed: UInt64
    ) {
        guard !receipts.isEmpty else { return }
        let picked = (0..<random.uniform(in: 1...3)).map { _ in receipts[Int(random.uniform(below: UInt64(receipts.count)))] }
        var seen = Set<Offset>()
        let unique = picked.filter { seen.insert($0.offset).inserted }
        let outcomes = log.ack(unique.map { ($0.offset, $0.claimID) })
        for (receipt, outcome) in zip(unique, outcomes) {
            let done = model.acked.contains(receipt.offset) || model.deadLettered.contains(receipt.offset)
            let current = model.lastClaim[receipt.offset]?.id == receipt.claimID
            let expected: QueueAckOutcome = done ? .unknown : (current ? .acknowledged : .stale)
            #expect(outcome == expected, "MOM_SEED=\(seed): ack of \(receipt) gave \(outcome)")
            if outcome == .acknowledged { model.acked.insert(receipt.offset) }
        }
    }

    private func deadLetter(_ log: inout QueueLog, _ model: inout Model, now: UInt64, seed: UInt64) {
        let due = log.state.needsDeadLetter(nowMilliseconds: now, max: 10)
        guard !due.isEmpty else { return }
        let result = log.append(.queueDeadLettered(QueueDeadLettered(deadLetteredAtMilliseconds: now, offsets: due)))
        #expect(result == .deadLettered(accepted: due, rejected: []), "MOM_SEED=\(seed)")
        model.deadLettered.formUnion(due)
    }

    /// Claims of arbitrary offsets (a buggy or old leader): whatever is accepted must still be legal.
    private func forge(_ log: inout QueueLog, _ model: inout Model, _ random: inout SeededRandom, now: UInt64, seed: UInt64) {
        guard log.next.rawValue > 0 else { return }
        let candidates = Set((0..<3).map { _ in Offset(random.uniform(below: log.next.rawValue + 2)) }).sorted()
        var receipts: [QueueReceipt] = []
        let result = log.claim(candidates, id: random.next(), at: now, timeout: UInt64(random.uniform(in: 1...120)))
        record(result, into: &model, &receipts, now: now, seed: seed)
        for offset in result.claimed.map(\.offset) {
            #expect(model.produced.contains(offset), "MOM_SEED=\(seed): claimed non-message \(offset)")
        }
    }

    private func check(_ state: QueuePartitionState, _ model: Model, now: UInt64, maxDeliveries: Int?, limits: Limits, seed: UInt64) {
        let pending = model.produced.count - model.acked.count - model.deadLettered.count
        #expect(state.depth == UInt64(pending), "MOM_SEED=\(seed): depth")
        #expect(state.acknowledgedCount == UInt64(model.acked.count) && state.deadLetteredCount == UInt64(model.deadLettered.count),
                "MOM_SEED=\(seed): counters")
        #expect(state.tracked.count <= limits.queueTrackedMessagesMax, "MOM_SEED=\(seed): tracked bound")
        if let maxDeliveries {
            #expect(model.lastClaim.values.allSatisfy { Int($0.count) <= maxDeliveries }, "MOM_SEED=\(seed): over max deliveries")
        }
        for offset in state.available(nowMilliseconds: now, max: 20) {
            let claim = model.lastClaim[offset]
            #expect(!model.acked.contains(offset) && !model.deadLettered.contains(offset), "MOM_SEED=\(seed): offered done \(offset)")
            #expect(claim.map { $0.deadline <= now } ?? true, "MOM_SEED=\(seed): offered claimed \(offset)")
        }
        let inFlight = model.lastClaim.filter { !model.acked.contains($0.key) && !model.deadLettered.contains($0.key) && $0.value.deadline > now }
        #expect(state.inFlight(nowMilliseconds: now) == inFlight.count, "MOM_SEED=\(seed): in flight")
        #expect(state.ackFloor <= (model.produced.first { !model.acked.contains($0) && !model.deadLettered.contains($0) } ?? state.nextOffset),
                "MOM_SEED=\(seed): floor above a pending message")
    }
}
