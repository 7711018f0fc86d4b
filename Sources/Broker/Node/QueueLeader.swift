import HTTPServer
import MOMCore
import Raft
import Replication

/// One message a partition leader claimed for a receiver: what the response carries.
struct ClaimedMessage: Sendable {
    let receipt: QueueReceipt
    let record: DataRecord
    var partition: PartitionID { receipt.partition }
    var offset: Offset { receipt.offset }
    var deliveryCount: UInt32 { receipt.deliveryCount }
}

/// A receive on one queue partition this node leads.
struct PartitionReceive: Sendable {
    let group: GroupID
    let partition: PartitionID
    let maxMessages: Int
    let waitMilliseconds: UInt64
    let ackTimeoutMilliseconds: UInt64
    /// About how many value bytes one answer may carry (at least one message is always given).
    let maxBytes: Int
}

/// The leader side of queues: claim, ack and the dead-letter move, each a record of the
/// partition's own Raft group, proposed here and answered once it is committed and applied.
/// Every decision reads the applied `QueuePartitionState` on the loop thread with the node's
/// wall clock (claim deadlines are compared across replicas, so they are wall time).
extension BrokerNode {
    /// Claims up to `request.maxMessages` messages, long-polling up to `waitMilliseconds` for
    /// some to become available (woken by any commit in the group — an append, an ack that
    /// freed room — or by the next claim deadline). Never blocks a thread: a waiting receive is
    /// a commit waiter of the replication loop.
    func receiveLocally(_ request: PartitionReceive, completion: @escaping @Sendable (Result<[ClaimedMessage], HTTPError>) -> Void) {
        let deadline = clock.monotonicNanoseconds() + request.waitMilliseconds * 1_000_000
        let posted = host.onLoop { [self] _ in attemptReceive(request, deadlineNanoseconds: deadline, attempt: 0, completion: completion) }
        if !posted { completion(.failure(ReplicationError.overloaded.httpError)) }
    }

    /// The queue machine of a group this node leads, or the error to answer.
    func queueLeaderMachine(_ group: GroupID) -> Result<PartitionGroupMachine, HTTPError> {
        guard let machine = groups.machine(for: group), machine.state.queue != nil else {
            return .failure(ReplicationError.unknownGroup(group).httpError)
        }
        guard let status = host.status(of: group), status.role == .leader else {
            return .failure(ReplicationError.notLeader(leader: host.status(of: group)?.leader).httpError)
        }
        return .success(machine)
    }

    var wallMilliseconds: UInt64 { UInt64(max(0, clock.wallMilliseconds())) }

    /// Loop thread. `attempt` bounds the wake-ups of one receive.
    private func attemptReceive(
        _ request: PartitionReceive, deadlineNanoseconds: UInt64, attempt: Int,
        completion: @escaping @Sendable (Result<[ClaimedMessage], HTTPError>) -> Void
    ) {
        let machine: PartitionGroupMachine
        switch queueLeaderMachine(request.group) {
        case .success(let found): machine = found
        case .failure(let error): return completion(.failure(error))
        }
        let queue = machine.state.queue!
        let now = wallMilliseconds
        let offsets = queue.available(
            nowMilliseconds: now, max: min(request.maxMessages, limits.queueBatchMessagesMax), excluding: machine.reservedOffsets)
        guard offsets.isEmpty else {
            machine.reserve(offsets)
            return readMessages(request.group, offsets: offsets, maxBytes: request.maxBytes) { [self] result in
                switch result {
                case .failure(let error):
                    machine.release(offsets)
                    completion(.failure(error))
                case .success(let records):
                    machine.release(Array(offsets.dropFirst(records.count)))
                    guard !records.isEmpty else { return completion(.success([])) }
                    proposeClaim(request, records: records, machine: machine) { [self] claimed in
                        // Every offset was taken by an older claim still in the log (a new
                        // leader catching up): look again rather than answer empty.
                        if case .success(let messages) = claimed, messages.isEmpty, attempt < 64 {
                            return attemptReceive(request, deadlineNanoseconds: deadlineNanoseconds, attempt: attempt + 1, completion: completion)
                        }
                        completion(claimed)
                    }
                }
            }
        }
        let nowNanoseconds = clock.monotonicNanoseconds()
        guard deadlineNanoseconds > nowNanoseconds, attempt < 10_000 else { return completion(.success([])) }
        var sleepMilliseconds = (deadlineNanoseconds - nowNanoseconds + 999_999) / 1_000_000
        if let next = queue.nextDeadlineMilliseconds(after: now) { sleepMilliseconds = min(sleepMilliseconds, next - now + 1) }
        let commit = host.status(of: request.group)?.commit ?? .zero
        host.waitForCommit(request.group, after: commit, timeoutMilliseconds: max(1, sleepMilliseconds)) { [self] result in
            switch result {
            case .success, .failure(.timedOut):
                attemptReceive(request, deadlineNanoseconds: deadlineNanoseconds, attempt: attempt + 1, completion: completion)
            case .failure(let error):
                completion(.failure(error.httpError))
            }
        }
    }

    /// Proposes the claim of `records` and answers with the messages the applied claim gave
    /// this receiver (apply may reject some: an older claim in the log took them).
    private func proposeClaim(
        _ request: PartitionReceive, records: [(offset: Offset, record: DataRecord)], machine: PartitionGroupMachine,
        completion: @escaping @Sendable (Result<[ClaimedMessage], HTTPError>) -> Void
    ) {
        let offsets = records.map(\.offset)
        var random = SystemRandom()
        let now = wallMilliseconds
        let (deadline, overflow) = now.addingReportingOverflow(request.ackTimeoutMilliseconds)
        let claim = QueueClaim(claimID: random.next(), claimedAtMilliseconds: now, deadlineMilliseconds: overflow ? .max : deadline, offsets: offsets)
        let byOffset = Dictionary(records.map { ($0.offset, $0.record) }, uniquingKeysWith: { first, _ in first })
        machine.expectVerdict()
        host.propose(request.group, entries: [PartitionRecord.queueClaim(claim).encoded()]) { result in
            machine.release(offsets)
            let verdict = machine.takeVerdict(at: (try? result.get()).map { GroupLogMapping.offset(of: $0.lowerBound) })
            switch result {
            case .failure(let error):
                completion(.failure(error.httpError))
            case .success:
                guard case .claim(let applied)? = verdict else { return completion(.failure(HTTPError.internalError)) }
                completion(.success(applied.claimed.compactMap { delivery in
                    byOffset[delivery.offset].map { ClaimedMessage(receipt: QueueReceipt(partition: request.partition, delivery: delivery), record: $0) }
                }))
            }
        }
    }

    /// Acknowledges receipts of one partition this node leads; answers with one outcome each.
    func ackLocally(group: GroupID, entries: [QueueAckEntry], completion: @escaping @Sendable (Result<[QueueAckOutcome], HTTPError>) -> Void) {
        let posted = host.onLoop { [self] _ in
            let machine: PartitionGroupMachine
            switch queueLeaderMachine(group) {
            case .success(let found): machine = found
            case .failure(let error): return completion(.failure(error))
            }
            machine.expectVerdict()
            host.propose(group, entries: [PartitionRecord.queueAck(QueueAck(entries: entries)).encoded()]) { result in
                let verdict = machine.takeVerdict(at: (try? result.get()).map { GroupLogMapping.offset(of: $0.lowerBound) })
                switch (result, verdict) {
                case (.failure(let error), _): completion(.failure(error.httpError))
                case (.success, .ack(let outcomes)?): completion(.success(outcomes))
                case (.success, _): completion(.failure(HTTPError.internalError))
                }
            }
        }
        if !posted { completion(.failure(ReplicationError.overloaded.httpError)) }
    }

    /// The counters of a queue partition hosted here (leader or follower: every replica applies
    /// the same records), or nil when it is not hosted.
    func queueStatistics(group: GroupID, completion: @escaping @Sendable (QueuePartitionStatistics?) -> Void) {
        let posted = host.onLoop { [self] _ in
            completion(groups.machine(for: group)?.state.queue?.statistics(nowMilliseconds: wallMilliseconds))
        }
        if !posted { completion(nil) }
    }

    /// Loop thread: reads the committed data records at `offsets` (ascending), in contiguous
    /// runs, stopping once about `maxBytes` of values are read (at least one record). A prefix
    /// of `offsets` comes back.
    func readMessages(
        _ group: GroupID, offsets: [Offset], maxBytes: Int,
        completion: @escaping @Sendable (Result<[(offset: Offset, record: DataRecord)], HTTPError>) -> Void
    ) {
        let runs = Self.contiguousRuns(offsets)
        readRuns(group, runs: runs[...], maxBytes: maxBytes, into: [], completion: completion)
    }

    private func readRuns(
        _ group: GroupID, runs: ArraySlice<Range<UInt64>>, maxBytes: Int, into collected: [(offset: Offset, record: DataRecord)],
        completion: @escaping @Sendable (Result<[(offset: Offset, record: DataRecord)], HTTPError>) -> Void
    ) {
        let bytes = collected.reduce(0) { $0 + $1.record.value.count + ($1.record.key?.count ?? 0) }
        guard let run = runs.first, bytes < maxBytes || collected.isEmpty else { return completion(.success(collected)) }
        let limits = self.limits
        let start = GroupLogMapping.index(of: Offset(run.lowerBound))
        host.readCommitted(group, from: start, maxEntries: run.count, maxBytes: max(1, maxBytes - bytes)) { [self] result in
            switch result {
            case .failure(let error):
                completion(.failure(error.httpError))
            case .success(let page):
                var collected = collected
                var next = run.lowerBound
                for entry in page.entries {
                    let offset = GroupLogMapping.offset(of: entry.index)
                    guard offset.rawValue == next, case .data(let record)? = try? PartitionRecord.decode(entry.data, limits: limits) else {
                        return completion(.failure(HTTPError(.internalServerError, code: "corrupt_record", message: "queue offset \(offset) is not a readable message")))
                    }
                    collected.append((offset, record))
                    next += 1
                }
                guard next > run.lowerBound else { return completion(.success(collected)) }
                var rest = Array(runs.dropFirst())
                if next < run.upperBound { rest.insert(next..<run.upperBound, at: 0) }
                readRuns(group, runs: rest[...], maxBytes: maxBytes, into: collected, completion: completion)
            }
        }
    }

    /// Ascending offsets as runs of consecutive offsets.
    static func contiguousRuns(_ offsets: [Offset]) -> [Range<UInt64>] {
        var runs: [Range<UInt64>] = []
        for offset in offsets.map(\.rawValue) {
            if let last = runs.last, last.upperBound == offset {
                runs[runs.count - 1] = last.lowerBound..<(offset + 1)
            } else {
                runs.append(offset..<(offset + 1))
            }
        }
        return runs
    }
}
