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

    func json() -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 96 + records.reduce(0) { $0 + $1.record.value.count + 96 })
        writer.beginObject()
        writer.key("records")
        writer.beginArray()
        for fetched in records {
            writer.beginObject()
            writer.field("offset", fetched.offset.rawValue)
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
    /// the high watermark waits for its commit; 416 below the leader's log start and past its
    /// log end (`FetchDecision`).
    func fetch(
        _ request: FetchRequest, askLeader: (@Sendable (_ waitMilliseconds: UInt64) -> Void)? = nil,
        completion: @escaping @Sendable (Result<FetchPage, HTTPError>) -> Void
    ) {
        host.readCommitted(request.group, from: GroupLogMapping.index(of: request.offset), maxEntries: request.maxRecords, maxBytes: request.maxBytes) { [self] result in
            switch result {
            case .failure(let error):
                completion(.failure(error.httpError))
            case .success(let page):
                let highWatermark = Offset(page.commit.rawValue)
                let logStart = Offset(page.firstIndex.rawValue - 1)
                let logEnd = Offset(page.lastIndex.rawValue)
                let decision = FetchDecision.decide(
                    offset: request.offset, logStart: logStart, highWatermark: highWatermark, logEnd: logEnd,
                    onLeader: page.readOnLeader, localOnly: askLeader == nil)
                switch decision {
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
                    waitThenFetchAgain(request, after: LogIndex(request.offset.rawValue), askLeader: askLeader, completion: completion)
                case .serve:
                    if page.entries.isEmpty && request.offset == highWatermark && request.waitMilliseconds > 0 {
                        return waitThenFetchAgain(request, after: page.commit, askLeader: askLeader, completion: completion)
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
        completion: @escaping @Sendable (Result<FetchPage, HTTPError>) -> Void
    ) {
        let retry = request.waiting(0)
        host.waitForCommit(request.group, after: commit, timeoutMilliseconds: request.waitMilliseconds) { [self] _ in
            self.fetch(retry, askLeader: askLeader, completion: completion)
        }
    }

    private func servePage(_ page: CommittedPage, request: FetchRequest, highWatermark: Offset, logStart: Offset) -> Result<FetchPage, HTTPError> {
        do {
            let entries = page.entries.map { (offset: GroupLogMapping.offset(of: $0.index), bytes: $0.kind == .normal ? $0.data : []) }
            let visible = try PartitionFetch.visibleRecords(entries, from: request.offset, maxRecords: request.maxRecords, maxBytes: request.maxBytes, limits: limits)
            metrics.recordFetched(records: visible.records.count, bytes: visible.records.reduce(0) { $0 + ($1.record.key?.count ?? 0) + $1.record.value.count })
            return .success(FetchPage(records: visible.records, nextOffset: visible.nextOffset, highWatermark: highWatermark, logStartOffset: logStart))
        } catch {
            return .failure(HTTPError(.internalServerError, code: "corrupt_record", message: "a committed record does not decode: \(error)"))
        }
    }
}
