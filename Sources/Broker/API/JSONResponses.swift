import HTTPServer
import MOMCore

extension JSONWriter {
    /// Writes bytes as `"text": "…"` when they are valid UTF-8, else `"base64": "…"` (names
    /// known at compile time, written as plain keys).
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
