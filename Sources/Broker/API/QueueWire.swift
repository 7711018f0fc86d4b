import HTTPServer
import MOMCore

/// The JSON of received messages (DESIGN.md §4), written by the node that answers the client
/// and read back when a partition's share came from its leader on another node.
enum QueueWire {
    static func write(_ message: ClaimedMessage, into writer: inout JSONWriter) {
        writer.beginObject()
        writer.field("receipt", message.receipt.text)
        writer.field("partition", Int(message.partition.rawValue))
        writer.field("offset", message.offset.rawValue)
        writer.recordFields(message.record)
        writer.field("delivery_count", UInt64(message.deliveryCount))
        writer.endObject()
    }

    /// `{"messages":[…]}`.
    static func response(_ messages: [ClaimedMessage]) -> HTTPResponse {
        var writer = JSONWriter(reservingCapacity: 32 + messages.reduce(0) { $0 + $1.record.value.count + 160 })
        writer.beginObject()
        writer.key("messages")
        writer.beginArray()
        for message in messages { write(message, into: &writer) }
        writer.endArray()
        writer.endObject()
        return .json(bytes: writer.bytes)
    }

    /// Reads a leader's `{"messages":[…]}` back; nil when it is not one.
    static func messages(from body: [UInt8]) -> [ClaimedMessage]? {
        guard let list = (try? JSONValue(parsing: body))?["messages"]?.arrayValue else { return nil }
        var messages: [ClaimedMessage] = []
        do {
            for item in list {
                guard let text = item["receipt"]?.stringValue else { return nil }
                let receipt = try QueueReceipt(text: text)
                let value = try RequestJSON.bytes(item, "value", required: true) ?? []
                // A keyless message has `"key": null`: nil here, not a failure.
                let key = try RequestJSON.bytes(item, "key", required: false)
                let headers = try RequestJSON.headers(item, limits: .standard)
                let timestamp = item["timestamp_ms"]?.uint64Value ?? 0
                messages.append(ClaimedMessage(receipt: receipt, record: DataRecord(timestampMilliseconds: timestamp, key: key, value: value, headers: headers)))
            }
        } catch {
            return nil
        }
        return messages
    }

    /// A forwarded answer that is an error, as an `HTTPError` keeping status, code and Retry-After.
    static func upstreamError(_ response: HTTPResponse) -> HTTPError {
        let error = (try? JSONValue(parsing: response.body))?["error"]
        let code = error?["code"]?.stringValue ?? "upstream_error"
        let message = error?["message"]?.stringValue ?? "the partition leader answered \(response.status.code)"
        var headers = HTTPHeaders()
        if let retry = response.headers["Retry-After"] { headers.set(name: "Retry-After", value: retry) }
        return HTTPError(response.status, code: code, message: message, headers: headers)
    }
}
