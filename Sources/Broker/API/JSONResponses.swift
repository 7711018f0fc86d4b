import HTTPServer
import MOMCore

extension JSONWriter {
    /// Writes bytes as `"name": "text"` when they are valid UTF-8, else `"name_base64": "…"`.
    mutating func bytesField(_ name: String, _ bytes: [UInt8]) {
        if UTF8Validation.isValid(bytes) {
            key(name)
            utf8String(bytes)
        } else {
            key("\(name)_base64")
            base64String(bytes)
        }
    }

    /// `bytesField` with names known at compile time (`text` as UTF-8, else `base64`).
    mutating func bytesField(_ bytes: [UInt8], text: StaticString, base64: StaticString) {
        if UTF8Validation.isValid(bytes) {
            plainKey(text)
            utf8String(bytes)
        } else {
            plainKey(base64)
            base64String(bytes)
        }
    }

    mutating func field(_ name: String, _ value: UInt64) { key(name); unsigned(value) }
    mutating func field(_ name: String, _ value: Int) { key(name); integer(value) }
    mutating func field(_ name: String, _ value: String) { key(name); string(value) }
}
