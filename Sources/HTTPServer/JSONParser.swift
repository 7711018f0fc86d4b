/// A recursive-descent RFC 8259 parser over a byte buffer. Total: every input yields a value or
/// a `JSONError`. Recursion depth is bounded by `JSONLimits.depthMax`.
struct JSONParser {
    private let input: UnsafeBufferPointer<UInt8>
    private let limits: JSONLimits
    private var position = 0
    private var depth = 0
    /// Scratch space for strings with escapes, reused across strings.
    private var scratch: [UInt8] = []

    init(_ input: UnsafeBufferPointer<UInt8>, limits: JSONLimits) {
        self.input = input
        self.limits = limits
    }

    mutating func parseDocument() throws(JSONError) -> JSONValue {
        guard input.count <= limits.bytesMax else { throw JSONError(reason: .sizeLimitExceeded, offset: limits.bytesMax) }
        skipWhitespace()
        let value = try parseValue()
        skipWhitespace()
        guard position == input.count else { throw error(.trailingContent) }
        return value
    }

    private func error(_ reason: JSONError.Reason) -> JSONError {
        JSONError(reason: reason, offset: position)
    }

    @inline(__always)
    private mutating func skipWhitespace() {
        while position < input.count {
            switch input[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    private mutating func parseValue() throws(JSONError) -> JSONValue {
        guard position < input.count else { throw error(.unexpectedEnd) }
        switch input[position] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error(.unexpectedByte)
        }
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONError) {
        let count = literal.utf8CodeUnitCount
        guard input.count - position >= count else { throw error(.unexpectedEnd) }
        for index in 0..<count where input[position + index] != literal.utf8Start[index] {
            position += index
            throw error(.unexpectedByte)
        }
        position += count
    }

    private mutating func enterContainer() throws(JSONError) {
        depth += 1
        if depth > limits.depthMax { throw error(.depthLimitExceeded) }
        position += 1
        skipWhitespace()
    }

    private mutating func parseObject() throws(JSONError) -> JSONValue {
        try enterContainer()
        var members: [(key: String, value: JSONValue)] = []
        if position < input.count && input[position] == UInt8(ascii: "}") {
            position += 1
            depth -= 1
            return .object(members)
        }
        while true {
            guard position < input.count else { throw error(.unexpectedEnd) }
            guard input[position] == UInt8(ascii: "\"") else { throw error(.unexpectedByte) }
            let key = try parseString()
            skipWhitespace()
            guard position < input.count else { throw error(.unexpectedEnd) }
            guard input[position] == UInt8(ascii: ":") else { throw error(.unexpectedByte) }
            position += 1
            skipWhitespace()
            members.append((key, try parseValue()))
            skipWhitespace()
            guard position < input.count else { throw error(.unexpectedEnd) }
            switch input[position] {
            case UInt8(ascii: ","):
                position += 1
                skipWhitespace()
            case UInt8(ascii: "}"):
                position += 1
                depth -= 1
                return .object(members)
            default:
                throw error(.unexpectedByte)
            }
        }
    }

    private mutating func parseArray() throws(JSONError) -> JSONValue {
        try enterContainer()
        var elements: [JSONValue] = []
        if position < input.count && input[position] == UInt8(ascii: "]") {
            position += 1
            depth -= 1
            return .array(elements)
        }
        while true {
            elements.append(try parseValue())
            skipWhitespace()
            guard position < input.count else { throw error(.unexpectedEnd) }
            switch input[position] {
            case UInt8(ascii: ","):
                position += 1
                skipWhitespace()
            case UInt8(ascii: "]"):
                position += 1
                depth -= 1
                return .array(elements)
            default:
                throw error(.unexpectedByte)
            }
        }
    }

    /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
    private mutating func parseNumber() throws(JSONError) -> JSONValue {
        let start = position
        if input[position] == UInt8(ascii: "-") { position += 1 }
        guard position < input.count else { throw error(.unexpectedEnd) }
        if input[position] == UInt8(ascii: "0") {
            position += 1
        } else {
            guard try consumeDigits() > 0 else { throw error(.invalidNumber) }
        }
        var isInteger = true
        if position < input.count && input[position] == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard try consumeDigits() > 0 else { throw error(.invalidNumber) }
        }
        if position < input.count && (input[position] | 0x20) == UInt8(ascii: "e") {
            isInteger = false
            position += 1
            if position < input.count && (input[position] == UInt8(ascii: "+") || input[position] == UInt8(ascii: "-")) {
                position += 1
            }
            guard try consumeDigits() > 0 else { throw error(.invalidNumber) }
        }
        let text = UnsafeBufferPointer(rebasing: input[start..<position])
        if isInteger, let exact = JSONSyntax.exactInteger(text) { return .integer(exact) }
        guard let value = Double(String(decoding: text, as: UTF8.self)), value.isFinite else {
            throw JSONError(reason: .invalidNumber, offset: start)
        }
        return .double(value)
    }

    private mutating func consumeDigits() throws(JSONError) -> Int {
        let start = position
        while position < input.count && HTTPSyntax.isDigit(input[position]) { position += 1 }
        return position - start
    }

    /// Parses a string starting at its opening quote. Strings without escapes are made
    /// straight from the input bytes.
    private mutating func parseString() throws(JSONError) -> String {
        position += 1
        let start = position
        var isASCII = true
        while position < input.count {
            let byte = input[position]
            if byte == UInt8(ascii: "\"") {
                let raw = UnsafeBufferPointer(rebasing: input[start..<position])
                if !isASCII && !UTF8Validation.isValid(buffer: raw) { throw JSONError(reason: .invalidUTF8, offset: start) }
                position += 1
                return String(decoding: raw, as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") { return try parseEscapedString(from: start) }
            if byte < 0x20 { throw error(.controlCharacterInString) }
            if byte >= 0x80 { isASCII = false }
            position += 1
        }
        throw error(.unexpectedEnd)
    }

    /// The slow path: copies into `scratch`, decoding escapes and validating UTF-8.
    private mutating func parseEscapedString(from start: Int) throws(JSONError) -> String {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(rebasing: input[start..<position]))
        while position < input.count {
            let byte = input[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                guard UTF8Validation.isValid(scratch) else { throw JSONError(reason: .invalidUTF8, offset: start) }
                return String(decoding: scratch, as: UTF8.self)
            case UInt8(ascii: "\\"):
                try parseEscape()
            case 0..<0x20:
                throw error(.controlCharacterInString)
            default:
                // Copy the run of plain bytes up to the next quote, backslash or control byte.
                let runStart = position
                position += 1
                while position < input.count {
                    let next = input[position]
                    if next == UInt8(ascii: "\"") || next == UInt8(ascii: "\\") || next < 0x20 { break }
                    position += 1
                }
                scratch.append(contentsOf: UnsafeBufferPointer(rebasing: input[runStart..<position]))
            }
        }
        throw error(.unexpectedEnd)
    }

    private mutating func parseEscape() throws(JSONError) {
        position += 1
        guard position < input.count else { throw error(.unexpectedEnd) }
        let escaped = input[position]
        position += 1
        if escaped == UInt8(ascii: "u") { return try parseUnicodeEscape() }
        guard let byte = JSONSyntax.unescaped(escaped) else {
            position -= 1
            throw error(.invalidEscape)
        }
        scratch.append(byte)
    }

    /// `\uXXXX`, combining a high surrogate with the `\uXXXX` low surrogate that must follow.
    private mutating func parseUnicodeEscape() throws(JSONError) {
        var scalar = try parseHex4()
        if (0xD800...0xDBFF).contains(scalar) {
            guard input.count - position >= 6, input[position] == UInt8(ascii: "\\"), input[position + 1] == UInt8(ascii: "u") else {
                throw error(.invalidUnicodeEscape)
            }
            position += 2
            let low = try parseHex4()
            guard (0xDC00...0xDFFF).contains(low) else { throw error(.invalidUnicodeEscape) }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(scalar) {
            throw error(.invalidUnicodeEscape)
        }
        guard let unicode = Unicode.Scalar(scalar) else { throw error(.invalidUnicodeEscape) }
        scratch.append(contentsOf: unicode.utf8)
    }

    private mutating func parseHex4() throws(JSONError) -> UInt32 {
        guard input.count - position >= 4 else { throw error(.unexpectedEnd) }
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let digit = QueryString.hexValue(input[position]) else { throw error(.invalidUnicodeEscape) }
            value = value << 4 | UInt32(digit)
            position += 1
        }
        return value
    }
}
