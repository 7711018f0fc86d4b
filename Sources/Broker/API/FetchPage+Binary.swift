import HTTPServer
import MOMCore

extension FetchPage {
    /// The page as a binary fetch batch (`Accept: application/vnd.mom.batch`): values as they
    /// are, no JSON escaping or base64.
    func binary() -> [UInt8] {
        var writer = BinaryWriter(capacity: 32 + records.reduce(0) { $0 + $1.record.value.count + ($1.record.key?.count ?? 0) + 32 })
        let position = RecordBatchFormat.FetchPosition(
            nextOffset: nextOffset.rawValue, highWatermark: highWatermark.rawValue, logStartOffset: logStartOffset.rawValue)
        RecordBatchFormat.beginFetch(&writer, position: position, count: records.count)
        for fetched in records {
            let record = RecordBatchFormat.Record(
                offset: fetched.offset.rawValue, timestampMilliseconds: fetched.record.timestampMilliseconds,
                key: fetched.record.key, value: fetched.record.value, headers: fetched.record.headers.map { ($0.name, $0.value) })
            RecordBatchFormat.append(record, to: &writer)
        }
        return writer.bytes
    }

    /// The answer in the form the request's `Accept` asks for: the binary batch or JSON.
    /// Either way its head carries `MOM-Next-Offset`, for clients that pipeline their fetches.
    func response(accept: String?) -> HTTPResponse {
        let binary = ProduceRequest.isBinaryBatch(accept)
        var headers = HTTPHeaders()
        headers.set(name: "Content-Type", value: binary ? RecordBatchFormat.mediaType : "application/json")
        headers.set(name: FetchHeaders.nextOffset, value: String(nextOffset.rawValue))
        return HTTPResponse(status: .ok, headers: headers, body: binary ? self.binary() : json())
    }
}
