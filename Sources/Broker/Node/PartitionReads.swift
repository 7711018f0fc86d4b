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
    /// the high watermark; 416 outside [log start, high watermark].
    func fetch(_ request: FetchRequest, completion: @escaping @Sendable (Result<FetchPage, HTTPError>) -> Void) {
        let limits = self.limits
        host.readCommitted(request.group, from: GroupLogMapping.index(of: request.offset), maxEntries: request.maxRecords, maxBytes: request.maxBytes) { [host, metrics] result in
            switch result {
            case .failure(let error):
                completion(.failure(error.httpError))
            case .success(let page):
                let highWatermark = Offset(page.commit.rawValue)
                let logStart = Offset(page.firstIndex.rawValue - 1)
                if request.offset < logStart || request.offset > highWatermark {
                    return completion(.failure(HTTPError.rangeNotSatisfiable(
                        "offset \(request.offset) is outside [\(logStart), \(highWatermark)] (log_start_offset \(logStart), high_watermark \(highWatermark))")))
                }
                if page.entries.isEmpty && request.offset == highWatermark && request.waitMilliseconds > 0 {
                    let retry = FetchRequest(group: request.group, offset: request.offset, maxRecords: request.maxRecords, maxBytes: request.maxBytes, waitMilliseconds: 0)
                    host.waitForCommit(request.group, after: page.commit, timeoutMilliseconds: request.waitMilliseconds) { [self] _ in
                        self.fetch(retry, completion: completion)
                    }
                    return
                }
                do {
                    let entries = page.entries.map { (offset: GroupLogMapping.offset(of: $0.index), bytes: $0.kind == .normal ? $0.data : []) }
                    let visible = try PartitionFetch.visibleRecords(entries, from: request.offset, maxRecords: request.maxRecords, maxBytes: request.maxBytes, limits: limits)
                    metrics.recordFetched(records: visible.records.count, bytes: visible.records.reduce(0) { $0 + ($1.record.key?.count ?? 0) + $1.record.value.count })
                    completion(.success(FetchPage(records: visible.records, nextOffset: visible.nextOffset, highWatermark: highWatermark, logStartOffset: logStart)))
                } catch {
                    completion(.failure(HTTPError(.internalServerError, code: "corrupt_record", message: "a committed record does not decode: \(error)")))
                }
            }
        }
    }
}
