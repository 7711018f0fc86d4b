import HTTPServer
import MOMCore
import Raft
import Replication

/// A message that ran out of deliveries, read back for its copy in `<queue>.dead-letter`.
struct ExhaustedMessage: Sendable {
    let offset: Offset
    let deliveryCount: UInt32
    let record: DataRecord
}

/// The leader side of the dead-letter move, in two steps so no message is ever lost: first the
/// API layer appends the copy to `<queue>.dead-letter` (durably, through that queue's own
/// leader), and only then does this leader propose `queueDeadLettered`, which removes the
/// message here. A leader crash between the two steps leaves the message here, still due: the
/// next leader copies it again, so the dead-letter queue may hold a duplicate (at-least-once;
/// the copy's `x-mom-source-*` headers name the original, for receivers that dedupe).
extension BrokerNode {
    /// Picks up to `max` messages of a partition this node leads whose last claim expired with
    /// no deliveries left, reserves them (so concurrent receives do not move them twice) and
    /// reads them. The caller must end every non-empty pick with `finishDeadLetter`.
    func pickExhausted(group: GroupID, max: Int, completion: @escaping @Sendable (Result<[ExhaustedMessage], HTTPError>) -> Void) {
        let posted = host.onLoop { [self] _ in
            guard case .success(let machine) = queueLeaderMachine(group), let queue = machine.state.queue else {
                return completion(.success([]))
            }
            let due = queue.needsDeadLetter(nowMilliseconds: wallMilliseconds, max: max + machine.reservedOffsets.count)
                .filter { !machine.reservedOffsets.contains($0) }.prefix(max)
            guard !due.isEmpty else { return completion(.success([])) }
            let offsets = Array(due)
            machine.reserve(offsets)
            readMessages(group, offsets: offsets, maxBytes: limits.readBytesMax / 4) { result in
                switch result {
                case .failure(let error):
                    machine.release(offsets)
                    completion(.failure(error))
                case .success(let records):
                    machine.release(Array(offsets.dropFirst(records.count)))
                    completion(.success(records.map { item in
                        ExhaustedMessage(offset: item.offset, deliveryCount: queue.state(of: item.offset)?.deliveryCount ?? 0, record: item.record)
                    }))
                }
            }
        }
        if !posted { completion(.failure(ReplicationError.overloaded.httpError)) }
    }

    /// Ends a pick: when the copies are durable in the dead-letter queue (`copied`), proposes
    /// `queueDeadLettered` for them; either way releases the reservation. Best effort: a failed
    /// proposal leaves the messages due, and the next receive moves them again.
    func finishDeadLetter(group: GroupID, offsets: [Offset], copied: Bool) {
        _ = host.onLoop { [self] _ in
            guard let machine = groups.machine(for: group) else { return }
            guard copied, case .success = queueLeaderMachine(group) else { return machine.release(offsets) }
            let record = QueueDeadLettered(deadLetteredAtMilliseconds: wallMilliseconds, offsets: offsets)
            host.propose(group, entries: [PartitionRecord.queueDeadLettered(record).encoded()]) { _ in
                machine.release(offsets)
            }
        }
    }
}
