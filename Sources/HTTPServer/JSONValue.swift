/// A parsed JSON document (RFC 8259).
///
/// Integers without a fraction or exponent that fit in 64 bits stay exact (`integer`), because
/// offsets and sequence numbers must not round through a Double. Objects keep their members in
/// order; lookup returns the last member with a name, which is what most parsers do with
/// duplicates, and is a linear scan because MOM's objects have a handful of members.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    public static func == (left: JSONValue, right: JSONValue) -> Bool {
        switch (left, right) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.integer(let a), .integer(let b)): a == b
        case (.double(let a), .double(let b)): a == b
        // JSON has one number type: 3 and 3.0 are the same value.
        case (.integer(let a), .double(let b)), (.double(let b), .integer(let a)): Double(a) == b && Int64(exactly: b) == a
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)):
            a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: false
        }
    }

    /// The member named `key` of an object (the last one if repeated), or nil.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        for member in members.reversed() where member.key == key { return member.value }
        return nil
    }

    /// The string, if this is a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The integer, if this is a number with an exact Int64 value.
    public var int64Value: Int64? {
        switch self {
        case .integer(let value): return value
        case .double(let value):
            guard value.rounded() == value, value >= -9.223372036854775808e18, value < 9.223372036854775808e18 else { return nil }
            return Int64(value)
        default: return nil
        }
    }

    /// The integer, if this is a non-negative number with an exact value.
    public var uint64Value: UInt64? {
        guard let value = int64Value, value >= 0 else { return nil }
        return UInt64(value)
    }

    /// The number as a Double, if this is a number.
    public var doubleValue: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }

    /// The Bool, if this is a boolean.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The members, if this is an object.
    public var objectValue: [(key: String, value: JSONValue)]? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// Whether this is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// Parses a complete JSON text. Throws `JSONError` (with the byte offset) on any deviation
    /// from RFC 8259 or when a limit is exceeded.
    public init(parsing bytes: [UInt8], limits: JSONLimits = JSONLimits()) throws(JSONError) {
        self = try bytes.withUnsafeBufferPointer { buffer throws(JSONError) in
            var parser = JSONParser(buffer, limits: limits)
            return try parser.parseDocument()
        }
    }

    /// Parses a complete JSON text from a string.
    public init(parsing text: String, limits: JSONLimits = JSONLimits()) throws(JSONError) {
        try self.init(parsing: Array(text.utf8), limits: limits)
    }

    /// The compact serialization.
    public func serialized() -> [UInt8] {
        var writer = JSONWriter()
        writer.value(self)
        return writer.bytes
    }

    /// The compact serialization as a String.
    public var jsonText: String { String(decoding: serialized(), as: UTF8.self) }
}

/// Bounds for the JSON parser, so a hostile body cannot exhaust the stack or memory.
public struct JSONLimits: Sendable {
    /// Nesting depth of arrays and objects.
    public var depthMax: Int
    /// Input size in bytes (the HTTP body limit normally bounds it first).
    public var bytesMax: Int

    public init(depthMax: Int = 64, bytesMax: Int = 64 << 20) {
        precondition(depthMax > 0 && bytesMax > 0, "JSON limits must be positive")
        self.depthMax = depthMax
        self.bytesMax = bytesMax
    }
}

/// Why a JSON text was rejected, and where.
public struct JSONError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What went wrong.
    public enum Reason: String, Sendable {
        case unexpectedEnd = "unexpected end of input"
        case unexpectedByte = "unexpected character"
        case invalidNumber = "invalid number"
        case invalidEscape = "invalid escape sequence"
        case invalidUnicodeEscape = "invalid \\u escape or unpaired surrogate"
        case controlCharacterInString = "unescaped control character in string"
        case invalidUTF8 = "invalid UTF-8"
        case trailingContent = "unexpected content after the JSON value"
        case depthLimitExceeded = "nesting too deep"
        case sizeLimitExceeded = "document too large"
    }

    public let reason: Reason
    /// The byte offset where parsing stopped.
    public let offset: Int

    public var description: String { "\(reason.rawValue) at byte \(offset)" }

    /// The 400 a handler returns for a body that is not valid JSON.
    public var httpError: HTTPError {
        .badRequest("request body is not valid JSON: \(description)", code: "invalid_json")
    }
}

/// A handler can let a `JSONError` propagate: it renders as a 400 `invalid_json`.
extension JSONError: HTTPResponseError {
    public var status: HTTPStatus { .badRequest }
    public var code: String { "invalid_json" }
    public var message: String { "request body is not valid JSON: \(description)" }
}
