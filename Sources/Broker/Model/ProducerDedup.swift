import MOMCore

/// Idempotent-producer state for one partition: for each producer, its highest sequence and the
/// offsets of its last few batches, like Kafka's producer state (which keeps 5 batches).
///
/// It is built only by applying data records in log order, so a new leader rebuilds exactly the
/// old leader's state from the log after failover; no separate snapshot can disagree.
///
/// A request's records share one `sequence` and carry their `indexInBatch` (position in the
/// request), so a batch spread over partitions is reassembled by the handler from each
/// partition's answer. Sequences may skip (other partitions got them) but never go back.
///
/// Bounds: `Limits.producersPerPartitionMax` producers; at the bound, a new producer evicts the
/// one whose last record is oldest (lowest offset), found by a scan that happens only then.
/// An evicted producer's retry is treated as new (at-least-once, as Kafka after expiry).
/// `Limits.producerBatchesRememberedMax` batches per producer; retries of older ones are out of order.
struct ProducerDedup: Equatable, Sendable {
    /// One record of a remembered batch.
    struct BatchRecord: Hashable, Sendable {
        let indexInBatch: UInt32
        let offset: Offset
    }

    /// Records `firstIndex + i` at `firstOffset + i` for i in 0..<count. A request's records
    /// are usually appended back to back, so a whole batch is typically one run.
    struct BatchRun: Hashable, Sendable {
        let firstIndex: UInt32
        let firstOffset: Offset
        var count: UInt32
    }

    struct Batch: Hashable, Sendable {
        let sequence: UInt64
        /// Ascending by `firstIndex`, disjoint.
        var runs: [BatchRun]

        /// The batch's records, ascending by `indexInBatch`.
        var records: [BatchRecord] {
            runs.flatMap { run in
                (0..<run.count).map { BatchRecord(indexInBatch: run.firstIndex + $0, offset: run.firstOffset.advanced(by: UInt64($0))) }
            }
        }

        func contains(index: UInt32) -> Bool {
            runs.contains { index >= $0.firstIndex && index - $0.firstIndex < $0.count }
        }
    }

    struct ProducerState: Hashable, Sendable {
        var lastSequence: UInt64
        /// Offset of the producer's most recent record: its activity, for eviction.
        var lastOffset: Offset
        /// Ascending by sequence, at most `producerBatchesRememberedMax`.
        var batches: [Batch]
    }

    /// The verdict on a `(producer, sequence)` before writing.
    enum Lookup: Hashable, Sendable {
        /// Never seen here: write it.
        case new
        /// Already written: answer with these offsets and write nothing (any index of the
        /// request missing from `records` did not commit here and may be written).
        case duplicate(records: [BatchRecord])
        /// Older than the producer's last sequence and no longer remembered: reject.
        case outOfOrder(lastSequence: UInt64)
    }

    let limits: Limits
    private(set) var producers: [UInt64: ProducerState] = [:]

    init(limits: Limits = .standard) { self.limits = limits }

    static func == (a: Self, b: Self) -> Bool { a.producers == b.producers }

    func lookup(producerID: UInt64, sequence: UInt64) -> Lookup {
        guard let state = producers[producerID] else { return .new }
        if let batch = state.batches.first(where: { $0.sequence == sequence }) { return .duplicate(records: batch.records) }
        return sequence > state.lastSequence ? .new : .outOfOrder(lastSequence: state.lastSequence)
    }

    /// Applies the record at `offset`; records without a producer stamp and control records are ignored.
    mutating func apply(_ record: PartitionRecord, at offset: Offset) {
        guard case .data(let data) = record, let stamp = data.producer else { return }
        apply(stamp, at: offset)
    }

    /// Applies a data record's producer stamp, the record being at `offset`.
    mutating func apply(_ stamp: ProducerStamp, at offset: Offset) {
        if producers[stamp.producerID] == nil {
            evictIfFull()
            producers[stamp.producerID] = ProducerState(lastSequence: stamp.sequence, lastOffset: offset, batches: [])
        }
        var state = producers[stamp.producerID]!
        state.lastOffset = offset
        state.lastSequence = max(state.lastSequence, stamp.sequence)
        remember(BatchRecord(indexInBatch: stamp.indexInBatch, offset: offset), sequence: stamp.sequence, in: &state)
        producers[stamp.producerID] = state
    }

    private func remember(_ record: BatchRecord, sequence: UInt64, in state: inout ProducerState) {
        if let index = state.batches.firstIndex(where: { $0.sequence == sequence }) {
            // A second write of the same (sequence, index) is a duplicate in the log (two racing
            // retries); the first offset stays the answer.
            guard !state.batches[index].contains(index: record.indexInBatch) else { return }
            add(record, to: &state.batches[index])
            return
        }
        let insertAt = state.batches.firstIndex { $0.sequence > sequence } ?? state.batches.count
        if insertAt == 0 && state.batches.count >= limits.producerBatchesRememberedMax { return }
        let run = BatchRun(firstIndex: record.indexInBatch, firstOffset: record.offset, count: 1)
        state.batches.insert(Batch(sequence: sequence, runs: [run]), at: insertAt)
        if state.batches.count > limits.producerBatchesRememberedMax { state.batches.removeFirst() }
    }

    /// Extends the run the record continues (the usual case: the last run), or starts one.
    private func add(_ record: BatchRecord, to batch: inout Batch) {
        if let last = batch.runs.last, last.count < UInt32.max, record.indexInBatch > last.firstIndex,
           record.indexInBatch - last.firstIndex == last.count,
           record.offset.rawValue &- last.firstOffset.rawValue == UInt64(last.count) {
            batch.runs[batch.runs.count - 1].count += 1
            return
        }
        let run = BatchRun(firstIndex: record.indexInBatch, firstOffset: record.offset, count: 1)
        let insertAt = batch.runs.firstIndex { $0.firstIndex > record.indexInBatch } ?? batch.runs.count
        batch.runs.insert(run, at: insertAt)
    }

    private mutating func evictIfFull() {
        guard producers.count >= limits.producersPerPartitionMax else { return }
        let oldest = producers.min { $0.value.lastOffset < $1.value.lastOffset }!
        producers[oldest.key] = nil
    }
}
