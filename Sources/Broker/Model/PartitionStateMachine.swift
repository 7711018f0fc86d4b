import MOMCore

/// Everything a partition's committed log determines besides the data itself, in one place so
/// the replication wiring makes one call per committed entry: producer dedup for every
/// partition, subscription cursors for topic partitions, claim/ack state for queue partitions.
struct PartitionStateMachine: Equatable, Sendable {
    private(set) var dedup: ProducerDedup
    private(set) var cursors: SubscriptionCursors
    /// Present for queue partitions only.
    private(set) var queue: QueuePartitionState?

    /// A topic partition.
    init(limits: Limits = .standard) {
        dedup = ProducerDedup(limits: limits)
        cursors = SubscriptionCursors(limits: limits)
        queue = nil
    }

    /// A queue partition; `startOffset` is the first offset the log still holds.
    init(queueMaxDeliveries maxDeliveries: Int?, limits: Limits = .standard, startOffset: Offset = .zero) {
        self.init(limits: limits)
        queue = QueuePartitionState(maxDeliveries: maxDeliveries, limits: limits, startOffset: startOffset)
    }

    /// Applies the committed entry at `offset` (entries in log order, each once) and returns
    /// what it was with the queue's verdict, so the proposer can answer its client. A data
    /// record's payload is checked, not copied (`AppliedRecord`). A committed entry that does
    /// not decode means a corrupt log: the caller stops the group.
    mutating func apply(entry bytes: [UInt8], at offset: Offset, limits: Limits = .standard) throws
        -> (record: AppliedRecord, queueResult: QueueApplyResult)
    {
        let record = try bytes.withUnsafeBytes { try PartitionRecord.decodeForApply(raw: $0, limits: limits) }
        switch record {
        case .data(let producer): return (record, applyData(producer: producer, at: offset))
        case .control(let control): return (record, apply(control, at: offset))
        }
    }

    mutating func apply(_ record: PartitionRecord, at offset: Offset) -> QueueApplyResult {
        if case .data(let data) = record { return applyData(producer: data.producer, at: offset) }
        dedup.apply(record, at: offset)
        cursors.apply(record, at: offset)
        return queue?.apply(record, at: offset) ?? .none
    }

    /// A data record: only its producer stamp and its offset count here.
    private mutating func applyData(producer: ProducerStamp?, at offset: Offset) -> QueueApplyResult {
        if let producer { dedup.apply(producer, at: offset) }
        return queue?.applyData(at: offset) ?? .none
    }
}
