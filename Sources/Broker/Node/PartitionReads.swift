import HTTPServer
import MOMCore
import Raft
import Replication

/// A fetch-by-offset on a partition hosted here.
struct FetchRequest: Sendable {
    let group: GroupID
    let offset: Offset
    let maxRecords: Int
    let maxBytes: Int
    let waitMilliseconds: UInt64

    /// The same fetch with another wait (a retry after waiting, a read with what is left).
    func waiting(_ milliseconds: UInt64) -> FetchRequest {
        FetchRequest(group: group, offset: offset, maxRecords: maxRecords, maxBytes: maxBytes, waitMilliseconds: milliseconds)
    }
}

/// What a fetch returns (DESIGN.md §4).
struct FetchPage: Sendable {
    let records: [FetchedRecord]
    let nextOffset: Offset
    let highWatermark: Offset
    let logStartOffset: Offset

    /// Keys and values of the page's records, in bytes.
    var valueBytes: Int { records.reduce(0) { $0 + $1.record.value.count + ($1.record.key?.count ?? 0) } }

    func json() -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 96 + records.reduce(0) { $0 + $1.record.value.count + 96 })
        writer.beginObject()
        writer.key("records")
        writer.beginArray()
        for fetched in records {
            writer.beginObject()
            writer.plainKey("offset")
            writer.unsigned(fetched.offset.rawValue)
            writer.recordFields(fetched.record)
            writer.endObject()
        }
        writer.endArray()
        writer.field("next_offset", nextOffset.rawValue)
        writer.field("high_watermark", highWatermark.rawValue)
        writer.field("log_start_offset", logStartOffset.rawValue)
        writer.endObject()
        return writer.bytes
    }
}

extension BrokerNode {
    /// Serves committed records only; long-polls up to `waitMilliseconds` when the offset equals
    /// the high watermark. An offset outside a follower's committed log goes to `askLeader`
    /// (given the wait still allowed; 416 when it is nil, `local=true`); on the leader one past
    /// the high watermark waits for its commit; 416 below the leader's log start, and past its
    /// log end once a ReadIndex round confirmed it still leads (`FetchDecision`).
    /// `confirmedTerm` is the term such a round confirmed during this fetch.
    func fetch(
        _ request: FetchRequest, askLeader: (@Sendable (_ waitMilliseconds: UInt64) -> Void)? = nil,
        confirmedTerm: Term? = nil, completion: @escaping @Sendable (Result<FetchPage, HTTPError>) -> Void
    ) {
        host.readCommitted(request.group, from: GroupLogMapping.index(of: request.offset), maxEntries: request.maxRecords, maxBytes: request.maxBytes) { [self] result in
            switch result {
            case .failure(let error):
                completion(.failure(error.httpError))
            case .success(let page):
                let highWatermark = Offset(page.commit.rawValue)
                let logStart = Offset(page.firstIndex.rawValue - 1)
                let logEnd = Offset(page.lastIndex.rawValue)
                // Still leading in the confirmed term means leading throughout since the round
                // (a node leads at most once per term), so this log end is at least the one then.
                let decision = FetchDecision.decide(
                    offset: request.offset, logStart: logStart, highWatermark: highWatermark, logEnd: logEnd,
                    onLeader: page.readOnLeader, leadershipConfirmed: page.readOnLeader && page.term == confirmedTerm,
                    localOnly: askLeader == nil)
                switch decision {
                case .confirmLeadership:
                    // One round per fetch: a term that changed again since is the client's to retry.
                    guard confirmedTerm == nil else { return completion(.failure(Self.leadershipUnconfirmed(request))) }
                    confirmThenFetchAgain(request, askLeader: askLeader, completion: completion)
                case .outOfRange:
                    completion(.failure(HTTPError.offsetOutOfRange(
                        "offset \(request.offset) is outside [\(logStart), \(highWatermark)] (log_start_offset \(logStart), high_watermark \(highWatermark))",
                        logStart: logStart.rawValue, highWatermark: highWatermark.rawValue)))
                case .askLeader:
                    askLeader?(request.waitMilliseconds)
                case .awaitCommit:
                    // Stored on the leader, not committed yet: after one wait (or none), an empty
                    // page that points back at the same offset; the consumer asks again.
                    guard request.waitMilliseconds > 0 else {
                        return completion(.success(FetchPage(records: [], nextOffset: request.offset, highWatermark: highWatermark, logStartOffset: logStart)))
                    }
                    // Until the record at the offset commits (the index after it), or the wait ends.
                    waitThenFetchAgain(request, after: LogIndex(request.offset.rawValue), askLeader: askLeader, confirmedTerm: confirmedTerm, completion: completion)
                case .serve:
                    if page.entries.isEmpty && request.offset == highWatermark && request.waitMilliseconds > 0 {
                        return waitThenFetchAgain(request, after: page.commit, askLeader: askLeader, confirmedTerm: confirmedTerm, completion: completion)
                    }
                    completion(servePage(page, request: request, highWatermark: highWatermark, logStart: logStart))
                }
            }
        }
    }

    /// Waits (bounded by the request's wait) for the commit index to pass `commit`, then fetches
    /// once more without waiting.
    private func waitThenFetchAgain(
        _ request: FetchRequest, after commit: LogIndex, askLeader: (@Sendable (UInt64) -> Void)?,
        confirmedTerm: Term?, completion: @escaping @Sendable (Result<FetchPage, HTTPError>) -> Void
    ) {
        let retry = request.waiting(0)
        host.waitForCommit(request.group, after: commit, timeoutMilliseconds: request.waitMilliseconds) { [self] _ in
            self.fetch(retry, askLeader: askLeader, confirmedTerm: confirmedTerm, completion: completion)
        }
    }

    /// Runs a ReadIndex round (bounded by an election timeout: a leader no majority answers for
    /// that long is being replaced), then fetches again with what is left of the wait. A failed
    /// round is a 503 the client retries: by then the cluster has a leader that can answer, and a
    /// deposed leader that learned of it passes the retry on as a follower.
    private func confirmThenFetchAgain(
        _ request: FetchRequest, askLeader: (@Sendable (UInt64) -> Void)?,
        completion: @escaping @Sendable (Result<FetchPage, HTTPError>) -> Void
    ) {
        let started = clock.monotonicNanoseconds()
        host.confirmLeadership(request.group, timeoutMilliseconds: host.electionTimeoutMilliseconds) { [self] result in
            switch result {
            case .failure(.notLeader), .failure(.timedOut):
                completion(.failure(Self.leadershipUnconfirmed(request)))
            case .failure(let error):
                completion(.failure(error.httpError))
            case .success(let confirmation):
                let waited = (clock.monotonicNanoseconds() - started) / 1_000_000
                let retry = request.waiting(request.waitMilliseconds - min(waited, request.waitMilliseconds))
                fetch(retry, askLeader: askLeader, confirmedTerm: confirmation.term, completion: completion)
            }
        }
    }

    /// Not knowing whether this node still leads, it cannot say the offset does not exist.
    private static func leadershipUnconfirmed(_ request: FetchRequest) -> HTTPError {
        .serviceUnavailable(
            "offset \(request.offset) is past this replica's log end, and it could not confirm that it still leads the partition; retry",
            code: "no_leader")
    }

    private func servePage(_ page: CommittedPage, request: FetchRequest, highWatermark: Offset, logStart: Offset) -> Result<FetchPage, HTTPError> {
        do {
            let entries = page.entries.map { (offset: GroupLogMapping.offset(of: $0.index), bytes: $0.kind == .normal ? $0.data : []) }
            let visible = try PartitionFetch.visibleRecords(entries, from: request.offset, maxRecords: request.maxRecords, maxBytes: request.maxBytes, limits: limits)
            let fetched = FetchPage(records: visible.records, nextOffset: visible.nextOffset, highWatermark: highWatermark, logStartOffset: logStart)
            metrics.recordFetched(records: visible.records.count, bytes: fetched.valueBytes)
            return .success(fetched)
        } catch {
            return .failure(HTTPError(.internalServerError, code: "corrupt_record", message: "a committed record does not decode: \(error)"))
        }
    }
}
