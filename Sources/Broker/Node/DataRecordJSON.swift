import HTTPServer

extension JSONWriter {
    /// A stored record's client-visible fields — `timestamp_ms`, `key` (null when absent),
    /// `value` (or `value_base64`) and `headers` — inside an object the caller has opened. Fetch,
    /// subscription polls and queue receives all show records this one way.
    /// Names are written as plain keys: this runs once per record of every fetch answer.
    mutating func recordFields(_ record: DataRecord) {
        plainKey("timestamp_ms")
        unsigned(record.timestampMilliseconds)
        if let key = record.key {
            bytesField(key, text: "key", base64: "key_base64")
        } else {
            plainKey("key")
            null()
        }
        bytesField(record.value, text: "value", base64: "value_base64")
        plainKey("headers")
        beginObject()
        for header in record.headers {
            self.key(header.name)
            utf8String(header.value)
        }
        endObject()
    }
}
