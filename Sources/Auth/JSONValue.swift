/// A parsed JSON value (RFC 8259), just enough for JWT headers and claims.
///
/// Auth parses tokens on every request, so it has its own small strict parser instead of
/// Foundation's: it is several times faster for these 100-byte objects, it keeps `true` apart
/// from `1` (Foundation bridges both to NSNumber), and it refuses duplicate keys, which
/// different parsers resolve differently and which an attacker could use to smuggle a claim.
enum JSONValue: Equatable, Sendable {
    case string(String)
    /// The number's literal text, validated against the JSON grammar; callers convert it.
    case number(String)
    case bool(Bool)
    case null
    case array([JSONValue])
    case object([String: JSONValue])

    /// The value as a string, if it is one.
    var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The value as a whole number, if it is an integer literal that fits in 64 bits (no fraction,
    /// no exponent).
    var integerValue: Int64? {
        if case .number(let text) = self { return Int64(text) }
        return nil
    }
}

/// Why JSON text was refused. Callers only need to know that it was.
struct JSONParseError: Error, Equatable {}

/// A strict recursive-descent JSON parser over bytes, with a nesting limit.
struct JSONParser {
    /// The deepest nesting accepted; JWT objects are flat, and the limit bounds the recursion.
    static let depthMaximum = 16

    private let bytes: [UInt8]
    private var index = 0

    /// Parses `bytes` as exactly one JSON object (with optional surrounding whitespace).
    static func parseObject(_ bytes: [UInt8]) -> [String: JSONValue]? {
        var parser = JSONParser(bytes: bytes)
        guard let value = try? parser.parseDocument(), case .object(let members) = value else { return nil }
        return members
    }

    private init(bytes: [UInt8]) {
        self.bytes = bytes
    }

    private mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        let value = try parseValue(depth: 0)
        skipWhitespace()
        if index != bytes.count { throw JSONParseError() }
        return value
    }

    private mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        if depth > Self.depthMaximum { throw JSONParseError() }
        skipWhitespace()
        guard index < bytes.count else { throw JSONParseError() }
        switch bytes[index] {
        case UInt8(ascii: "{"): return .object(try parseObjectMembers(depth: depth))
        case UInt8(ascii: "["): return .array(try parseArrayElements(depth: depth))
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        default: return .number(try parseNumber())
        }
    }

    private mutating func parseObjectMembers(depth: Int) throws(JSONParseError) -> [String: JSONValue] {
        index += 1  // "{"
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if consume(UInt8(ascii: "}")) { return members }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw JSONParseError() }
            let key = try parseString()
            skipWhitespace()
            guard consume(UInt8(ascii: ":")) else { throw JSONParseError() }
            let value = try parseValue(depth: depth + 1)
            if members.updateValue(value, forKey: key) != nil { throw JSONParseError() }
            skipWhitespace()
            if consume(UInt8(ascii: "}")) { return members }
            guard consume(UInt8(ascii: ",")) else { throw JSONParseError() }
        }
    }

    private mutating func parseArrayElements(depth: Int) throws(JSONParseError) -> [JSONValue] {
        index += 1  // "["
        var elements: [JSONValue] = []
        skipWhitespace()
        if consume(UInt8(ascii: "]")) { return elements }
        while true {
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            if consume(UInt8(ascii: "]")) { return elements }
            guard consume(UInt8(ascii: ",")) else { throw JSONParseError() }
        }
    }

    private mutating func parseString() throws(JSONParseError) -> String {
        index += 1  // opening quote
        var buffer: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: buffer, as: UTF8.self) else { throw JSONParseError() }
                return text
            case UInt8(ascii: "\\"):
                try appendEscape(to: &buffer)
            case 0..<0x20:
                throw JSONParseError()  // control characters must be escaped
            default:
                buffer.append(byte)
            }
        }
        throw JSONParseError()
    }

    private mutating func appendEscape(to buffer: inout [UInt8]) throws(JSONParseError) {
        guard index < bytes.count else { throw JSONParseError() }
        let escape = bytes[index]
        index += 1
        switch escape {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): buffer.append(escape)
        case UInt8(ascii: "b"): buffer.append(0x08)
        case UInt8(ascii: "f"): buffer.append(0x0C)
        case UInt8(ascii: "n"): buffer.append(0x0A)
        case UInt8(ascii: "r"): buffer.append(0x0D)
        case UInt8(ascii: "t"): buffer.append(0x09)
        case UInt8(ascii: "u"):
            var scalarValue = try parseHexQuad()
            if (0xD800..<0xDC00).contains(scalarValue) {
                // A high surrogate must be followed by an escaped low surrogate.
                guard consume(UInt8(ascii: "\\")), consume(UInt8(ascii: "u")) else { throw JSONParseError() }
                let low = try parseHexQuad()
                guard (0xDC00..<0xE000).contains(low) else { throw JSONParseError() }
                scalarValue = 0x10000 + ((scalarValue - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let scalar = Unicode.Scalar(scalarValue) else { throw JSONParseError() }
            buffer.append(contentsOf: Array(String(Character(scalar)).utf8))
        default:
            throw JSONParseError()
        }
    }

    private mutating func parseHexQuad() throws(JSONParseError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw JSONParseError() }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            index += 1
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw JSONParseError()
            }
            value = value << 4 | digit
        }
        return value
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, finite as a double, returned as text.
    private mutating func parseNumber() throws(JSONParseError) -> String {
        let start = index
        _ = consume(UInt8(ascii: "-"))
        if consume(UInt8(ascii: "0")) {
            // A leading zero stands alone.
        } else if countDigits() == 0 {
            throw JSONParseError()
        }
        if consume(UInt8(ascii: ".")), countDigits() == 0 { throw JSONParseError() }
        if consume(UInt8(ascii: "e")) || consume(UInt8(ascii: "E")) {
            if !consume(UInt8(ascii: "+")) { _ = consume(UInt8(ascii: "-")) }
            if countDigits() == 0 { throw JSONParseError() }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        // RFC 8259 §6: numbers beyond IEEE 754 double range do not interoperate; refuse them as
        // other parsers do, so no two parsers disagree on whether a token is well formed.
        guard let value = Double(text), value.isFinite else { throw JSONParseError() }
        return text
    }

    private mutating func countDigits() -> Int {
        let start = index
        while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
            index += 1
        }
        return index - start
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw JSONParseError() }
        for offset in 0..<count where bytes[index + offset] != literal.utf8Start[offset] {
            throw JSONParseError()
        }
        index += count
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        guard index < bytes.count, bytes[index] == byte else { return false }
        index += 1
        return true
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"): index += 1
            default: return
            }
        }
    }
}
