import HTTPServer
import MOMCore
import Raft
import Replication

/// The leader side of produce: dedup, stamp, propose; answered once a majority has it on disk.
extension BrokerNode {
    struct ProducerKey: Hashable, Sendable {
        let group: GroupID
        let producerID: UInt64
        let sequence: UInt64
    }

    /// Whether the stored-but-unapplied suffix of the group's log holds a record of this producer
    /// request; nil when that suffix is too large to check.
    private func pendingCopy(of producer: (id: UInt64, sequence: UInt64), in group: GroupID) -> Bool? {
        guard let entries = host.unappliedStoredEntriesOnLoop(group, maxBytes: 64 << 20) else { return nil }
        for entry in entries where entry.kind == .normal && !entry.data.isEmpty {
            guard case .data(let record)? = try? PartitionRecord.decode(entry.data, limits: limits),
                  let stamp = record.producer else { continue }
            if stamp.producerID == producer.id && stamp.sequence == producer.sequence { return true }
        }
        return false
    }

    /// Appends `items` to a partition this node leads. `completion` gets one offset per item, in
    /// order, once committed — or the original offsets of an idempotent retry.
    func appendLocally(
        _ items: [ProduceRequest.Item], group: GroupID, producer: (id: UInt64, sequence: UInt64)?,
        completion: @escaping @Sendable (Result<[Offset], Error>) -> Void
    ) {
        let posted = host.onLoop { [self] _ in
            appendOnLoop(items, group: group, producer: producer, completion: completion)
        }
        if !posted { completion(.failure(ReplicationError.overloaded.httpError)) }
    }

    private func appendOnLoop(
        _ items: [ProduceRequest.Item], group: GroupID, producer: (id: UInt64, sequence: UInt64)?,
        completion: @escaping @Sendable (Result<[Offset], Error>) -> Void
    ) {
        guard let machine = groups.machine(for: group) else {
            return completion(.failure(ReplicationError.unknownGroup(group).httpError))
        }
        var key: ProducerKey?
        if let producer {
            let candidate = ProducerKey(group: group, producerID: producer.id, sequence: producer.sequence)
            switch machine.state.dedup.lookup(producerID: producer.id, sequence: producer.sequence) {
            case .duplicate(let records):
                let byPosition = Dictionary(records.map { (Int($0.indexInBatch), $0.offset) }, uniquingKeysWith: { first, _ in first })
                let offsets = items.compactMap { byPosition[$0.position] }
                if offsets.count == items.count { return completion(.success(offsets)) }
            case .outOfOrder(let last):
                return completion(.failure(HTTPError.conflict(
                    "sequence \(producer.sequence) of producer \(producer.id) is older than its last sequence \(last) and no longer remembered",
                    code: "sequence_out_of_order")))
            case .new:
                break
            }
            // The applied state is not the whole log: an earlier attempt of this very request may
            // sit in the log, stored but not yet committed (a retry after a timeout in a minority,
            // say). It will commit with this leader, so writing it again would duplicate it.
            switch pendingCopy(of: producer, in: group) {
            case .some(true), .none:
                return completion(.failure(HTTPError.serviceUnavailable(
                    "a write with producer_id \(producer.id) and sequence \(producer.sequence) is in the log but not committed yet; retry to learn its offsets",
                    code: "duplicate_in_flight")))
            case .some(false):
                break
            }
            guard !inflightProducers.contains(candidate) else {
                return completion(.failure(HTTPError.serviceUnavailable(
                    "an identical request (same producer_id and sequence) is still being written; retry", code: "duplicate_in_flight")))
            }
            inflightProducers.insert(candidate)
            key = candidate
        }
        let timestamp = UInt64(max(0, clock.wallMilliseconds()))
        let entries = items.map { item -> [UInt8] in
            let stamp = producer.map { ProducerStamp(producerID: $0.id, sequence: $0.sequence, indexInBatch: UInt32(item.position)) }
            return DataRecord.entry(timestampMilliseconds: timestamp, key: item.key, value: item.value, headers: item.headers, producer: stamp)
        }
        let inflightKey = key
        // Counted now: the completion must not hold the items, whose values may be slices
        // that keep the whole request body alive until the commit.
        let recordCount = items.count
        let recordBytes = items.reduce(0) { $0 + ($1.key?.count ?? 0) + $1.value.count }
        host.propose(group, entries: entries) { [self] result in
            if let inflightKey { inflightProducers.remove(inflightKey) }
            switch result {
            case .success(let range):
                metrics.recordProduced(records: recordCount, bytes: recordBytes)
                completion(.success((range.lowerBound.rawValue...range.upperBound.rawValue).map { GroupLogMapping.offset(of: LogIndex($0)) }))
            case .failure(let error):
                completion(.failure(error.httpError))
            }
        }
    }
}
