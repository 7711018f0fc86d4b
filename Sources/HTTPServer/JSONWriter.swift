/// Streams compact JSON into a byte buffer: the fast path for responses (no intermediate
/// `JSONValue`, no Foundation). Commas are inserted automatically; nesting must be balanced,
/// which is checked with preconditions because unbalanced calls are programmer errors.
///
/// ```
/// var writer = JSONWriter()
/// writer.beginObject()
/// writer.key("offset"); writer.integer(42)
/// writer.endObject()          // {"offset":42}
/// ```
public struct JSONWriter: Sendable {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []
    /// One bit per open container: set once it has an element (so the next needs a comma).
    private var hasElementBits: UInt64 = 0
    private var depth = 0
    /// True between `key` and its value (no comma before the value).
    private var afterKey = false

    /// An empty writer; `reservingCapacity` avoids regrowth for large responses.
    public init(reservingCapacity capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    /// The output as a String.
    public var text: String { String(decoding: bytes, as: UTF8.self) }

    public mutating func beginObject() {
        beforeValue()
        bytes.append(UInt8(ascii: "{"))
        push()
    }

    public mutating func endObject() {
        pop()
        bytes.append(UInt8(ascii: "}"))
    }

    public mutating func beginArray() {
        beforeValue()
        bytes.append(UInt8(ascii: "["))
        push()
    }

    public mutating func endArray() {
        pop()
        bytes.append(UInt8(ascii: "]"))
    }

    /// Writes an object member name; the next call writes its value.
    public mutating func key(_ name: String) {
        precondition(depth > 0 && !afterKey, "JSON key outside an object or twice in a row")
        beforeValue()
        appendEscaped(name)
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    /// An object member name known at compile time to need no escaping (ASCII, no `"`, `\\` or
    /// control characters: checked in debug builds): copied as is, for the per-record names of
    /// large responses.
    public mutating func plainKey(_ name: StaticString) {
        precondition(depth > 0 && !afterKey, "JSON key outside an object or twice in a row")
        precondition(name.hasPointerRepresentation, "plainKey needs a string literal")
        let name = UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount)
        assert(name.allSatisfy { $0 >= 0x20 && $0 < 0x80 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }, "plainKey needs escaping")
        beforeValue()
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: name)
        bytes.append(UInt8(ascii: "\""))
        bytes.append(UInt8(ascii: ":"))
        afterKey = true
    }

    public mutating func string(_ value: String) {
        beforeValue()
        appendEscaped(value)
    }

    public mutating func integer(_ value: Int64) {
        beforeValue()
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            appendUnsigned(value.magnitude)
        } else {
            appendUnsigned(UInt64(value))
        }
    }

    public mutating func integer(_ value: Int) { integer(Int64(value)) }

    public mutating func unsigned(_ value: UInt64) {
        beforeValue()
        appendUnsigned(value)
    }

    /// Writes a Double; NaN and infinities, which JSON cannot express, become `null`.
    public mutating func double(_ value: Double) {
        beforeValue()
        if !value.isFinite {
            HTTPResponseSerializer.appendLiteral("null", to: &bytes)
        } else if value.rounded() == value && value.magnitude < 1e15 {
            if value < 0 || (value == 0 && value.sign == .minus) { bytes.append(UInt8(ascii: "-")) }
            appendUnsigned(UInt64(value.magnitude))
        } else {
            bytes.append(contentsOf: value.description.utf8)
        }
    }

    public mutating func bool(_ value: Bool) {
        beforeValue()
        if value { HTTPResponseSerializer.appendLiteral("true", to: &bytes) } else { HTTPResponseSerializer.appendLiteral("false", to: &bytes) }
    }

    public mutating func null() {
        beforeValue()
        HTTPResponseSerializer.appendLiteral("null", to: &bytes)
    }

    /// Writes `data` as a base64 JSON string (for `value_base64`) without an intermediate String.
    public mutating func base64String<C: Collection<UInt8>>(_ data: C) {
        beforeValue()
        bytes.append(UInt8(ascii: "\""))
        Base64.encode(data, into: &bytes)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Writes UTF-8 `data` as a JSON string, escaping as needed. The caller guarantees the
    /// bytes are valid UTF-8 (a record value that is not goes out as `value_base64`).
    public mutating func utf8String<C: Collection<UInt8>>(_ data: C) {
        beforeValue()
        appendEscaped(bytes: data)
    }

    /// Writes a whole `JSONValue`.
    public mutating func value(_ value: JSONValue) {
        switch value {
        case .null: null()
        case .bool(let flag): bool(flag)
        case .integer(let number): integer(number)
        case .double(let number): double(number)
        case .string(let text): string(text)
        case .array(let elements):
            beginArray()
            for element in elements { self.value(element) }
            endArray()
        case .object(let members):
            beginObject()
            for member in members {
                key(member.key)
                self.value(member.value)
            }
            endObject()
        }
    }

    /// Appends already-serialized JSON as one value (trusted input, e.g. a cached fragment).
    public mutating func raw(_ json: [UInt8]) {
        beforeValue()
        bytes.append(contentsOf: json)
    }

    // MARK: Bookkeeping

    private mutating func beforeValue() {
        if afterKey {
            afterKey = false
            return
        }
        guard depth > 0 else { return }
        let bit: UInt64 = 1 << UInt64(depth - 1)
        if hasElementBits & bit != 0 { bytes.append(UInt8(ascii: ",")) } else { hasElementBits |= bit }
    }

    private mutating func push() {
        precondition(depth < 64, "JSONWriter nesting deeper than 64")
        depth += 1
        hasElementBits &= ~(1 << UInt64(depth - 1))
    }

    private mutating func pop() {
        precondition(depth > 0 && !afterKey, "unbalanced JSONWriter end")
        depth -= 1
    }

    private mutating func appendUnsigned(_ value: UInt64) {
        if value <= UInt64(Int.max) {
            HTTPResponseSerializer.appendDecimal(Int(value), to: &bytes)
        } else {
            bytes.append(contentsOf: String(value).utf8)
        }
    }

    private mutating func appendEscaped(_ text: String) {
        var text = text
        text.withUTF8 { appendEscaped(bytes: $0) }
    }

    /// Escapes `"`, `\` and control characters (RFC 8259 §7); everything else is copied, in
    /// runs, so plain text costs one bulk append.
    private mutating func appendEscaped<C: Collection<UInt8>>(bytes data: C) {
        bytes.append(UInt8(ascii: "\""))
        let handled: Void? = data.withContiguousStorageIfAvailable { buffer in
            var runStart = 0
            var index = Self.firstEscapeIndex(in: buffer, from: 0)
            while index < buffer.count {
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart..<index]))
                appendEscape(buffer[index])
                runStart = index + 1
                index = Self.firstEscapeIndex(in: buffer, from: runStart)
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[runStart...]))
        }
        if handled == nil {
            for byte in data {
                if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { appendEscape(byte) } else { bytes.append(byte) }
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// The index of the first byte at or after `start` that JSON must escape (below 0x20, `"`
    /// or `\`), or `buffer.count`. Eight bytes at a time: a word without such a byte is skipped
    /// whole, which for plain text (most record values) is the whole scan. Byte by byte, this
    /// scan was a fifth of a follower's loop thread while it served 1,000-record fetches
    /// (docs/performance.md §20).
    static func firstEscapeIndex(in buffer: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        let count = buffer.count
        guard let base = buffer.baseAddress, start < count else { return count }
        let raw = UnsafeRawPointer(base)
        var index = start
        while true {
            while index + 8 <= count, !wordNeedsEscape(raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)) { index += 8 }
            // The rest, or the word that has one: byte by byte up to its end.
            let end = min(index + 8, count)
            while index < end {
                let byte = buffer[index]
                if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return index }
                index += 1
            }
            if index >= count { return count }
        }
    }

    /// Whether any byte of `word` is below 0x20, `"` or `\` (the bit tricks of "Bit Twiddling
    /// Hacks", hasless and haszero: exact about whether such a byte exists, which is all this
    /// asks).
    static func wordNeedsEscape(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let below20 = (word &- ones &* 0x20) & ~word & highs
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let quoteZero = (quote &- ones) & ~quote & highs
        let backslashZero = (backslash &- ones) & ~backslash & highs
        return below20 | quoteZero | backslashZero != 0
    }

    private mutating func appendEscape(_ byte: UInt8) {
        bytes.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): bytes.append(byte)
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        default:
            HTTPResponseSerializer.appendLiteral("u00", to: &bytes)
            bytes.append(Self.hexDigits[Int(byte >> 4)])
            bytes.append(Self.hexDigits[Int(byte & 0xF)])
        }
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
}
