import MOMCore
import Testing
@testable import Broker

@Suite struct ProducerDedupTests {
    private func record(_ producer: UInt64, _ sequence: UInt64, _ index: UInt32) -> PartitionRecord {
        .data(DataRecord(
            timestampMilliseconds: 0, value: [],
            producer: ProducerStamp(producerID: producer, sequence: sequence, indexInBatch: index)))
    }

    @Test func retryReturnsTheOriginalOffsets() {
        var dedup = ProducerDedup()
        #expect(dedup.lookup(producerID: 1, sequence: 0) == .new)
        dedup.apply(record(1, 0, 0), at: Offset(10))
        dedup.apply(record(1, 0, 2), at: Offset(11))
        dedup.apply(.noop, at: Offset(12))
        dedup.apply(.data(DataRecord(timestampMilliseconds: 0, value: [])), at: Offset(13))
        #expect(dedup.lookup(producerID: 1, sequence: 0) == .duplicate(records: [
            .init(indexInBatch: 0, offset: Offset(10)), .init(indexInBatch: 2, offset: Offset(11)),
        ]))
        #expect(dedup.lookup(producerID: 1, sequence: 1) == .new)
        #expect(dedup.lookup(producerID: 1, sequence: 5) == .new, "gaps are fine: other partitions took those sequences")
        #expect(dedup.lookup(producerID: 2, sequence: 0) == .new)
    }

    @Test func contiguousBatchesAreOneRun() {
        var dedup = ProducerDedup()
        for index in UInt32(0)..<1000 { dedup.apply(record(1, 0, index), at: Offset(UInt64(index) + 50)) }
        #expect(dedup.producers[1]?.batches.first?.runs == [.init(firstIndex: 0, firstOffset: Offset(50), count: 1000)])
        dedup.apply(record(1, 1, 1), at: Offset(2000))
        dedup.apply(record(2, 0, 0), at: Offset(2001))
        dedup.apply(record(1, 1, 0), at: Offset(2002))
        dedup.apply(record(1, 1, 2), at: Offset(2003))
        #expect(dedup.lookup(producerID: 1, sequence: 1) == .duplicate(records: [
            .init(indexInBatch: 0, offset: Offset(2002)), .init(indexInBatch: 1, offset: Offset(2000)),
            .init(indexInBatch: 2, offset: Offset(2003)),
        ]))
    }

    @Test func duplicateWritesKeepTheFirstOffset() {
        var dedup = ProducerDedup()
        dedup.apply(record(1, 3, 0), at: Offset(1))
        dedup.apply(record(1, 3, 0), at: Offset(2))
        #expect(dedup.lookup(producerID: 1, sequence: 3) == .duplicate(records: [.init(indexInBatch: 0, offset: Offset(1))]))
    }

    @Test func remembersOnlyTheLastFewBatches() {
        var limits = Limits()
        limits.producerBatchesRememberedMax = 2
        var dedup = ProducerDedup(limits: limits)
        for sequence in UInt64(0)..<4 { dedup.apply(record(1, sequence, 0), at: Offset(sequence)) }
        #expect(dedup.lookup(producerID: 1, sequence: 3) == .duplicate(records: [.init(indexInBatch: 0, offset: Offset(3))]))
        #expect(dedup.lookup(producerID: 1, sequence: 2) == .duplicate(records: [.init(indexInBatch: 0, offset: Offset(2))]))
        #expect(dedup.lookup(producerID: 1, sequence: 1) == .outOfOrder(lastSequence: 3))
        // A late record of an old sequence does not displace newer batches.
        dedup.apply(record(1, 0, 1), at: Offset(9))
        #expect(dedup.producers[1]?.batches.map(\.sequence) == [2, 3])
    }

    @Test func evictsTheProducerWithTheOldestActivity() {
        var limits = Limits()
        limits.producersPerPartitionMax = 2
        var dedup = ProducerDedup(limits: limits)
        dedup.apply(record(1, 0, 0), at: Offset(0))
        dedup.apply(record(2, 0, 0), at: Offset(1))
        dedup.apply(record(1, 1, 0), at: Offset(2))  // producer 1 is now the more recent
        dedup.apply(record(3, 0, 0), at: Offset(3))
        #expect(Set(dedup.producers.keys) == [1, 3])
        #expect(dedup.lookup(producerID: 2, sequence: 0) == .new, "evicted producers retry as new (documented)")
    }

    /// After failover the new leader rebuilds dedup state from the log; it must answer every
    /// lookup as the old leader would.
    @Test func rebuildFromLogEqualsLiveState() throws {
        for seed in TestSeed.seeds(count: 10, base: 77) {
            var random = SeededRandom(seed: seed)
            var limits = Limits()
            limits.producersPerPartitionMax = 4
            limits.producerBatchesRememberedMax = 3
            var live = ProducerDedup(limits: limits)
            var log: [(Offset, [UInt8])] = []
            var sequences: [UInt64: UInt64] = [:]
            for offset in UInt64(0)..<500 {
                let producer = random.uniform(below: 6)
                if random.chance(1, in: 3) { sequences[producer, default: 0] += random.uniform(below: 3) }
                let entry = random.chance(1, in: 8)
                    ? PartitionRecord.queueAck(QueueAck(entries: []))
                    : record(producer, sequences[producer, default: 0], UInt32(random.uniform(below: 4)))
                log.append((Offset(offset), entry.encoded()))
                live.apply(entry, at: Offset(offset))
            }
            var rebuilt = ProducerDedup(limits: limits)
            for (offset, bytes) in log { rebuilt.apply(try PartitionRecord.decode(bytes), at: offset) }
            #expect(rebuilt == live, "MOM_SEED=\(seed)")
            #expect(live.producers.count <= 4, "MOM_SEED=\(seed)")
            for producer in UInt64(0)..<6 {
                for sequence in UInt64(0)..<40 {
                    #expect(rebuilt.lookup(producerID: producer, sequence: sequence) == live.lookup(producerID: producer, sequence: sequence),
                            "MOM_SEED=\(seed)")
                }
            }
        }
    }
}
