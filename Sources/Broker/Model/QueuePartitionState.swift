import MOMCore

/// One message handed to a receiver: what the receipt and the response carry.
struct QueueDelivery: Hashable, Sendable {
    let offset: Offset
    /// 1 on first delivery.
    let deliveryCount: UInt32
    let claimID: UInt64
    let deadlineMilliseconds: UInt64
}

/// What applying a claim did, per offset.
struct QueueClaimResult: Hashable, Sendable {
    var claimed: [QueueDelivery] = []
    /// Offsets the claim could not take: acked, under another unexpired claim, out of
    /// deliveries, not a message, or beyond the tracked-messages bound.
    var rejected: [Offset] = []
}

/// What an acknowledgement did.
enum QueueAckOutcome: Hashable, Sendable {
    /// The message is done.
    case acknowledged
    /// The receipt's claim is no longer the message's current claim: it expired and someone
    /// else claimed the message since. The ack is ignored; the new holder will ack it.
    case stale
    /// No pending message at that offset: already acked or dead-lettered, or never delivered
    /// (a forged or mistyped receipt). Ignored.
    case unknown
}

/// The result of applying one partition record to a queue partition.
enum QueueApplyResult: Hashable, Sendable {
    case none
    case claim(QueueClaimResult)
    case ack([QueueAckOutcome])
    case deadLettered(accepted: [Offset], rejected: [Offset])
}

/// The state of one queue partition, rebuilt on every replica by applying the partition's
/// records in log order, like an SQS queue whose visibility timeouts are log records.
///
/// Every time it reasons about comes from a record (the leader stamps claims and dead-letter
/// records), so replicas agree. Only `available`, `needsDeadLetter` and `inFlight` take the
/// leader's current time, and they never change state.
///
/// Memory: never-delivered messages are runs of offsets (one entry per run of consecutive
/// data records, not per message), and per-message state exists only for messages delivered at
/// least once and not yet done. That set is bounded by `Limits.queueTrackedMessagesMax`, as
/// SQS bounds in-flight messages: while it is full, only redeliveries are offered.
struct QueuePartitionState: Equatable, Sendable {
    struct Tracked: Hashable, Sendable {
        var deliveryCount: UInt32
        var claimID: UInt64
        var deadlineMilliseconds: UInt64
    }

    let maxDeliveries: Int?
    let limits: Limits

    /// One past the last applied record's offset.
    private(set) var nextOffset: Offset
    /// Messages delivered at least once and not acked or dead-lettered.
    private(set) var tracked: [UInt64: Tracked] = [:]
    /// `tracked`'s offsets ascending, with lazy deletion: an entry is live only while `tracked`
    /// holds it. Compacted when dead entries outnumber live ones.
    private var trackedOrder: [UInt64] = []
    private var trackedOrderHead = 0
    /// Never-delivered data offsets, ascending disjoint runs from `runsHead` on.
    private var runs: [Range<UInt64>] = []
    private var runsHead = 0
    private(set) var undeliveredCount: UInt64 = 0
    private(set) var acknowledgedCount: UInt64 = 0
    private(set) var deadLetteredCount: UInt64 = 0

    init(maxDeliveries: Int?, limits: Limits = .standard, startOffset: Offset = .zero) {
        self.maxDeliveries = maxDeliveries
        self.limits = limits
        self.nextOffset = startOffset
    }

    static func == (a: Self, b: Self) -> Bool {
        a.maxDeliveries == b.maxDeliveries && a.nextOffset == b.nextOffset && a.tracked == b.tracked
            && a.undeliveredRuns == b.undeliveredRuns && a.acknowledgedCount == b.acknowledgedCount
            && a.deadLetteredCount == b.deadLetteredCount
    }

    // MARK: Queries

    /// Messages not yet acked or dead-lettered (`GET /v1/queues/{q}` depth).
    var depth: UInt64 { undeliveredCount + UInt64(tracked.count) }

    /// Never-delivered messages as offset runs, ascending.
    var undeliveredRuns: ArraySlice<Range<UInt64>> { runs[runsHead...] }

    /// The lowest offset not yet done; everything below it is acked, dead-lettered or control.
    /// Retention must not delete a queue partition's log at or above it.
    var ackFloor: Offset {
        let trackedFirst = trackedOrder[trackedOrderHead...].first { tracked[$0] != nil }
        let runFirst = undeliveredRuns.first?.lowerBound
        return Offset([trackedFirst, runFirst, nextOffset.rawValue].compactMap { $0 }.min()!)
    }

    /// Messages under a claim that has not expired at `nowMilliseconds`. O(tracked).
    func inFlight(nowMilliseconds: UInt64) -> Int {
        tracked.values.count { $0.deadlineMilliseconds > nowMilliseconds }
    }

    func state(of offset: Offset) -> Tracked? { tracked[offset.rawValue] }

    private func isRedeliverable(_ message: Tracked, nowMilliseconds: UInt64) -> Bool {
        message.deadlineMilliseconds <= nowMilliseconds && !isExhausted(message)
    }

    private func isExhausted(_ message: Tracked) -> Bool {
        guard let maxDeliveries else { return false }
        return Int(message.deliveryCount) >= maxDeliveries
    }

    /// Up to `max` offsets a receiver may claim now, ascending: redeliveries (expired claims with
    /// deliveries left) and never-delivered messages. `excluding` lets the leader leave out
    /// offsets of claims it has proposed but not yet applied, so concurrent receives do not
    /// propose the same messages (the second claim would be rejected at apply and deliver fewer).
    /// O(tracked + max). Pure: claiming needs a `queueClaim` record.
    func available(nowMilliseconds: UInt64, max: Int, excluding: Set<Offset> = []) -> [Offset] {
        guard max > 0 else { return [] }
        var redeliveries: [UInt64] = []
        for offset in trackedOrder[trackedOrderHead...] {
            if redeliveries.count == max { break }
            if let message = tracked[offset], isRedeliverable(message, nowMilliseconds: nowMilliseconds),
               !excluding.contains(Offset(offset)) {
                redeliveries.append(offset)
            }
        }
        var fresh: [UInt64] = []
        let pendingFresh = excluding.count { tracked[$0.rawValue] == nil }
        let freshMax = Swift.min(max, Swift.max(0, limits.queueTrackedMessagesMax - tracked.count - pendingFresh))
        // Explicit breaks: a run can hold millions of offsets, and a `where` clause would still
        // visit every one of them.
        runs: for run in undeliveredRuns {
            for offset in run {
                if fresh.count >= freshMax { break runs }
                if !excluding.contains(Offset(offset)) { fresh.append(offset) }
            }
        }
        return (redeliveries + fresh).sorted().prefix(max).map { Offset($0) }
    }

    /// The claim record a leader proposes for a receive of up to `max` messages, or nil when
    /// nothing is available. At most `Limits.queueBatchMessagesMax` offsets, so it always decodes.
    func proposeClaim(
        nowMilliseconds: UInt64, max: Int, ackTimeoutMilliseconds: UInt64, claimID: UInt64, excluding: Set<Offset> = []
    ) -> QueueClaim? {
        let offsets = available(
            nowMilliseconds: nowMilliseconds, max: Swift.min(max, limits.queueBatchMessagesMax), excluding: excluding)
        guard !offsets.isEmpty else { return nil }
        let (deadline, overflow) = nowMilliseconds.addingReportingOverflow(ackTimeoutMilliseconds)
        return QueueClaim(
            claimID: claimID, claimedAtMilliseconds: nowMilliseconds,
            deadlineMilliseconds: overflow ? .max : deadline, offsets: offsets)
    }

    /// Offsets whose last claim expired with no deliveries left: the broker copies each to
    /// `<queue>.dead-letter` and then appends a `queueDeadLettered` record. Ascending, at most `max`.
    func needsDeadLetter(nowMilliseconds: UInt64, max: Int) -> [Offset] {
        guard maxDeliveries != nil else { return [] }
        var result: [Offset] = []
        for offset in trackedOrder[trackedOrderHead...] {
            if result.count >= max { break }
            if let message = tracked[offset], isExhausted(message), message.deadlineMilliseconds <= nowMilliseconds {
                result.append(Offset(offset))
            }
        }
        return result
    }

    // MARK: Apply

    /// Applies the record at `offset`. Records arrive in log order, each exactly once.
    mutating func apply(_ record: PartitionRecord, at offset: Offset) -> QueueApplyResult {
        advance(to: offset)
        switch record {
        case .data:
            appendUndelivered(offset.rawValue)
            return .none
        case .queueClaim(let claim):
            return .claim(applyClaim(claim))
        case .queueAck(let ack):
            var outcomes: [QueueAckOutcome] = []
            for entry in ack.entries { outcomes.append(applyAck(entry)) }
            return .ack(outcomes)
        case .queueDeadLettered(let deadLettered):
            return applyDeadLettered(deadLettered)
        case .noop, .subscriptionCommit, .subscriptionDelete:
            return .none
        }
    }

    /// A data record at `offset` (in log order, once): one more message to deliver.
    mutating func applyData(at offset: Offset) -> QueueApplyResult {
        advance(to: offset)
        appendUndelivered(offset.rawValue)
        return .none
    }

    private mutating func advance(to offset: Offset) {
        precondition(offset >= nextOffset, "queue records applied out of order: \(offset) < \(nextOffset)")
        nextOffset = offset.next
    }

    private mutating func appendUndelivered(_ offset: UInt64) {
        if runs.count > runsHead, runs[runs.count - 1].upperBound == offset {
            runs[runs.count - 1] = runs[runs.count - 1].lowerBound..<(offset + 1)
        } else {
            runs.append(offset..<(offset + 1))
        }
        undeliveredCount += 1
    }

    private mutating func applyClaim(_ claim: QueueClaim) -> QueueClaimResult {
        var result = QueueClaimResult()
        for offset in claim.offsets {
            let raw = offset.rawValue
            var deliveryCount: UInt32
            if let message = tracked[raw] {
                guard message.deadlineMilliseconds <= claim.claimedAtMilliseconds, !isExhausted(message) else {
                    result.rejected.append(offset)
                    continue
                }
                deliveryCount = message.deliveryCount + 1
            } else if tracked.count < limits.queueTrackedMessagesMax, removeUndelivered(raw) {
                deliveryCount = 1
                insertTrackedOrder(raw)
            } else {
                result.rejected.append(offset)
                continue
            }
            tracked[raw] = Tracked(
                deliveryCount: deliveryCount, claimID: claim.claimID, deadlineMilliseconds: claim.deadlineMilliseconds)
            result.claimed.append(QueueDelivery(
                offset: offset, deliveryCount: deliveryCount, claimID: claim.claimID,
                deadlineMilliseconds: claim.deadlineMilliseconds))
        }
        return result
    }

    /// A receipt acks only while its claim is the message's current claim. An expired claim
    /// nobody has replaced still acks (the receiver did the work; SQS behaves the same).
    private mutating func applyAck(_ entry: QueueAckEntry) -> QueueAckOutcome {
        guard let message = tracked[entry.offset.rawValue] else { return .unknown }
        guard message.claimID == entry.claimID else { return .stale }
        removeTracked(entry.offset.rawValue)
        acknowledgedCount += 1
        return .acknowledged
    }

    private mutating func applyDeadLettered(_ record: QueueDeadLettered) -> QueueApplyResult {
        var accepted: [Offset] = []
        var rejected: [Offset] = []
        for offset in record.offsets {
            if let message = tracked[offset.rawValue], isExhausted(message),
               message.deadlineMilliseconds <= record.deadLetteredAtMilliseconds {
                removeTracked(offset.rawValue)
                deadLetteredCount += 1
                accepted.append(offset)
            } else {
                rejected.append(offset)
            }
        }
        return .deadLettered(accepted: accepted, rejected: rejected)
    }

    // MARK: Storage helpers

    /// Removes `offset` from the never-delivered runs; false when it is not there.
    private mutating func removeUndelivered(_ offset: UInt64) -> Bool {
        var low = runsHead, high = runs.count
        while low < high {
            let middle = (low + high) / 2
            if runs[middle].upperBound <= offset { low = middle + 1 } else { high = middle }
        }
        guard low < runs.count, runs[low].contains(offset) else { return false }
        let run = runs[low]
        let before = run.lowerBound..<offset
        let after = (offset + 1)..<run.upperBound
        switch (before.isEmpty, after.isEmpty) {
        case (true, true):
            // The usual case is the front run's last message: advance the head, O(1).
            if low == runsHead { runsHead += 1 } else { runs.remove(at: low) }
        case (true, false): runs[low] = after
        case (false, true): runs[low] = before
        case (false, false):
            runs[low] = before
            runs.insert(after, at: low + 1)
        }
        undeliveredCount -= 1
        if runsHead > 64 && runsHead * 2 > runs.count {
            runs.removeFirst(runsHead)
            runsHead = 0
        }
        return true
    }

    private mutating func insertTrackedOrder(_ offset: UInt64) {
        if trackedOrder.last.map({ $0 < offset }) ?? true {
            trackedOrder.append(offset)
            return
        }
        var low = trackedOrderHead, high = trackedOrder.count
        while low < high {
            let middle = (low + high) / 2
            if trackedOrder[middle] < offset { low = middle + 1 } else { high = middle }
        }
        trackedOrder.insert(offset, at: low)
    }

    private mutating func removeTracked(_ offset: UInt64) {
        tracked[offset] = nil
        while trackedOrderHead < trackedOrder.count, tracked[trackedOrder[trackedOrderHead]] == nil {
            trackedOrderHead += 1
        }
        let entries = trackedOrder.count - trackedOrderHead
        if entries > 64 && entries > 2 * tracked.count || trackedOrderHead > 64 && trackedOrderHead * 2 > trackedOrder.count {
            trackedOrder = trackedOrder[trackedOrderHead...].filter { tracked[$0] != nil }
            trackedOrderHead = 0
        }
    }
}
