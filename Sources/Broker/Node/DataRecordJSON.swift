import HTTPServer

extension JSONWriter {
    /// A stored record's client-visible fields — `timestamp_ms`, `key` (null when absent),
    /// `value` (or `value_base64`) and `headers` — inside an object the caller has opened. Fetch,
    /// subscription polls and queue receives all show records this one way.
    mutating func recordFields(_ record: DataRecord) {
        field("timestamp_ms", record.timestampMilliseconds)
        if let key = record.key { bytesField("key", key) } else { self.key("key"); null() }
        bytesField("value", record.value)
        self.key("headers")
        beginObject()
        for header in record.headers {
            self.key(header.name)
            utf8String(header.value)
        }
        endObject()
    }
}
