import HTTPServer

/// A forward-only reader over a JSON text that accepts exactly what `JSONValue(parsing:)`
/// accepts (RFC 8259, the same depth limit, strict UTF-8, finite numbers) but builds no tree:
/// the produce fast path reads the few members it knows where they are and skips the rest.
///
/// Why it never reports errors: anything it does not accept — invalid JSON or merely an
/// unusual shape — makes the caller fall back to the tree parser, which then answers exactly as
/// before. So this reader only has to be right about what it accepts.
struct JSONScanner {
    /// Thrown for anything the fast path leaves to the tree parser.
    struct Fallback: Error {}

    /// A string's raw bytes between its quotes; `escaped` when they hold a backslash.
    struct StringSpan {
        let start: Int
        let end: Int
        let escaped: Bool
    }

    let input: UnsafeBufferPointer<UInt8>
    let depthMax: Int
    private(set) var position = 0
    private(set) var depth = 0
    /// Decoded bytes of the last escaped string, reused across strings.
    private(set) var scratch: [UInt8] = []

    init(_ input: UnsafeBufferPointer<UInt8>, depthMax: Int) {
        self.input = input
        self.depthMax = depthMax
    }

    var atEnd: Bool { position == input.count }

    /// The next byte after whitespace, without consuming it.
    mutating func peek() throws(Fallback) -> UInt8 {
        skipWhitespace()
        guard position < input.count else { throw Fallback() }
        return input[position]
    }

    mutating func skipWhitespace() {
        while position < input.count {
            switch input[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    /// Consumes `byte` (after whitespace).
    mutating func expect(_ byte: UInt8) throws(Fallback) {
        guard try peek() == byte else { throw Fallback() }
        position += 1
    }

    /// Consumes `{` or `[` and counts the nesting as the tree parser does.
    mutating func enter(_ opener: UInt8) throws(Fallback) {
        try expect(opener)
        depth += 1
        guard depth <= depthMax else { throw Fallback() }
    }

    /// After a member or element: true at `,`, false at the closer (consumed, depth left).
    mutating func next(closer: UInt8) throws(Fallback) -> Bool {
        let byte = try peek()
        position += 1
        if byte == UInt8(ascii: ",") { return true }
        guard byte == closer else { throw Fallback() }
        depth -= 1
        return false
    }

    /// Consumes `}` or `]` when the container is empty.
    mutating func closesEmpty(_ closer: UInt8) throws(Fallback) -> Bool {
        guard try peek() == closer else { return false }
        position += 1
        depth -= 1
        return true
    }

    /// Consumes `null` if it comes next.
    mutating func takeNull() throws(Fallback) -> Bool {
        guard try peek() == UInt8(ascii: "n") else { return false }
        try literal("null")
        return true
    }

    /// A member's name and the `:` after it. Names with escapes are left to the tree parser.
    mutating func memberName() throws(Fallback) -> StringSpan {
        let name = try string()
        guard !name.escaped else { throw Fallback() }
        try expect(UInt8(ascii: ":"))
        return name
    }

    /// Whether `span` holds exactly the ASCII `name`.
    func matches(_ span: StringSpan, _ name: StaticString) -> Bool {
        let count = name.utf8CodeUnitCount
        guard span.end - span.start == count else { return false }
        let expected = name.utf8Start
        for index in 0..<count where input[span.start + index] != expected[index] { return false }
        return true
    }

    /// The raw bytes of a span (for a string without escapes, its value).
    func raw(_ span: StringSpan) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: input[span.start..<span.end])
    }

    /// A string's value as a new array: its raw bytes, or its decoded escapes.
    mutating func bytes(_ span: StringSpan) throws(Fallback) -> [UInt8] {
        guard span.escaped else { return Array(raw(span)) }
        try decodeEscaped(span)
        return scratch
    }

    /// Reads a string (validated like the tree parser: control bytes, escapes, UTF-8).
    /// Values are most of a produce body, so plain runs are skipped 16 bytes (then 8) at a time.
    mutating func string() throws(Fallback) -> StringSpan {
        try expect(UInt8(ascii: "\""))
        guard let base = input.baseAddress else { throw Fallback() }
        let start = position
        let count = input.count
        var index = position
        var highBits: UInt64 = 0
        var highLanes = SIMD16<UInt8>(repeating: 0)
        let quotes = SIMD16<UInt8>(repeating: UInt8(ascii: "\""))
        let backslashes = SIMD16<UInt8>(repeating: UInt8(ascii: "\\"))
        let controlBound = SIMD16<UInt8>(repeating: 0x20)
        let asciiBound = SIMD16<UInt8>(repeating: 0x80)
        while true {
            while index + 16 <= count {
                let chunk = UnsafeRawPointer(base + index).loadUnaligned(as: SIMD16<UInt8>.self)
                let hits = (chunk .== quotes) .| (chunk .== backslashes) .| (chunk .< controlBound)
                if any(hits) { break }
                highLanes |= chunk
                index += 16
            }
            if any(highLanes .>= asciiBound) { highBits |= 0x80 }
            while index + 8 <= count {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                let hits = Self.quoteBackslashOrControlHits(word)
                guard hits != 0 else {
                    highBits |= word & 0x8080_8080_8080_8080
                    index += 8
                    continue
                }
                // The lowest flagged byte is exact (false flags only sit above a true one), and
                // the bytes are little-endian: step straight to it.
                let plainBytes = hits.trailingZeroBitCount >> 3
                highBits |= word & 0x8080_8080_8080_8080 & ((1 &<< UInt64(plainBytes &* 8)) &- 1)
                index += plainBytes
                break
            }
            guard index < count else { break }
            let byte = base[index]
            if byte == UInt8(ascii: "\"") {
                let span = StringSpan(start: start, end: index, escaped: false)
                position = index + 1
                if highBits != 0 && !UTF8Validation.isValid(buffer: raw(span)) { throw Fallback() }
                return span
            }
            if byte == UInt8(ascii: "\\") {
                position = index
                return try escapedString(from: start)
            }
            if byte < 0x20 { throw Fallback() }
            highBits |= UInt64(byte & 0x80)
            index += 1
        }
        throw Fallback()
    }

    /// The high bit of each byte of `word` that may be a quote, a backslash or below 0x20:
    /// SWAR zero-byte tests, exact for "any" and for the lowest flagged byte; a byte at or
    /// above 0x80 never counts as a hit by itself.
    @inline(__always)
    private static func quoteBackslashOrControlHits(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let quoteHit = (quote &- ones) & ~quote & high
        let backslashHit = (backslash &- ones) & ~backslash & high
        let controlHit = (word &- ones &* 0x20) & ~word & high
        return quoteHit | backslashHit | controlHit
    }

    /// The rest of a string with escapes: finds its end, then decodes and validates it.
    private mutating func escapedString(from start: Int) throws(Fallback) -> StringSpan {
        while position < input.count {
            let byte = input[position]
            if byte == UInt8(ascii: "\"") { break }
            if byte < 0x20 { throw Fallback() }
            // Skipping the escaped byte keeps `\"` inside; decoding checks the escape itself.
            position += byte == UInt8(ascii: "\\") ? 2 : 1
        }
        guard position < input.count else { throw Fallback() }
        let span = StringSpan(start: start, end: position, escaped: true)
        position += 1
        try decodeEscaped(span)
        guard scratch.withUnsafeBufferPointer({ UTF8Validation.isValid(buffer: $0) }) else { throw Fallback() }
        return span
    }

    /// Decodes the escapes of `span` into `scratch`.
    private mutating func decodeEscaped(_ span: StringSpan) throws(Fallback) {
        scratch.removeAll(keepingCapacity: true)
        var index = span.start
        while index < span.end {
            let byte = input[index]
            index += 1
            guard byte == UInt8(ascii: "\\") else {
                if byte < 0x20 { throw Fallback() }
                scratch.append(byte)
                continue
            }
            guard index < span.end else { throw Fallback() }
            let escaped = input[index]
            index += 1
            if escaped == UInt8(ascii: "u") {
                try unicodeEscape(&index, end: span.end)
            } else {
                guard let byte = JSONSyntax.unescaped(escaped) else { throw Fallback() }
                scratch.append(byte)
            }
        }
    }

    /// `\uXXXX` after the `u`, with the low surrogate a high one needs.
    private mutating func unicodeEscape(_ index: inout Int, end: Int) throws(Fallback) {
        var scalar = try hex4(&index, end: end)
        if (0xD800...0xDBFF).contains(scalar) {
            guard end - index >= 6, input[index] == UInt8(ascii: "\\"), input[index + 1] == UInt8(ascii: "u") else { throw Fallback() }
            index += 2
            let low = try hex4(&index, end: end)
            guard (0xDC00...0xDFFF).contains(low) else { throw Fallback() }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00...0xDFFF).contains(scalar) {
            throw Fallback()
        }
        guard let unicode = Unicode.Scalar(scalar) else { throw Fallback() }
        scratch.append(contentsOf: unicode.utf8)
    }

    private func hex4(_ index: inout Int, end: Int) throws(Fallback) -> UInt32 {
        guard end - index >= 4 else { throw Fallback() }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = input[index] | 0x20
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            default: throw Fallback()
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    /// A number that is an exact Int64 literal (no fraction or exponent); others fall back.
    mutating func integer() throws(Fallback) -> Int64 {
        let (exact, _) = try number()
        guard let exact else { throw Fallback() }
        return exact
    }

    /// Reads a number by the RFC 8259 grammar; returns its value when it is an integer literal
    /// that fits Int64. Others must be finite Doubles, as the tree parser requires.
    private mutating func number() throws(Fallback) -> (exact: Int64?, end: Int) {
        _ = try peek()
        let start = position
        if input[position] == UInt8(ascii: "-") { position += 1 }
        guard position < input.count else { throw Fallback() }
        if input[position] == UInt8(ascii: "0") {
            position += 1
        } else if digits() == 0 {
            throw Fallback()
        }
        var isInteger = true
        if position < input.count && input[position] == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard digits() > 0 else { throw Fallback() }
        }
        if position < input.count && (input[position] | 0x20) == UInt8(ascii: "e") {
            isInteger = false
            position += 1
            if position < input.count && (input[position] == UInt8(ascii: "+") || input[position] == UInt8(ascii: "-")) { position += 1 }
            guard digits() > 0 else { throw Fallback() }
        }
        let text = UnsafeBufferPointer(rebasing: input[start..<position])
        if isInteger, let exact = JSONSyntax.exactInteger(text) { return (exact, position) }
        guard let value = Double(String(decoding: text, as: UTF8.self)), value.isFinite else { throw Fallback() }
        return (nil, position)
    }

    private mutating func digits() -> Int {
        let start = position
        while position < input.count, input[position] >= UInt8(ascii: "0"), input[position] <= UInt8(ascii: "9") { position += 1 }
        return position - start
    }

    private mutating func literal(_ text: StaticString) throws(Fallback) {
        let count = text.utf8CodeUnitCount
        guard input.count - position >= count else { throw Fallback() }
        for index in 0..<count where input[position + index] != text.utf8Start[index] { throw Fallback() }
        position += count
    }

    /// Skips any value, validating it as the tree parser would.
    mutating func skipValue() throws(Fallback) {
        switch try peek() {
        case UInt8(ascii: "{"):
            try enter(UInt8(ascii: "{"))
            if try closesEmpty(UInt8(ascii: "}")) { return }
            repeat {
                _ = try string()
                try expect(UInt8(ascii: ":"))
                try skipValue()
            } while try next(closer: UInt8(ascii: "}"))
        case UInt8(ascii: "["):
            try enter(UInt8(ascii: "["))
            if try closesEmpty(UInt8(ascii: "]")) { return }
            repeat { try skipValue() } while try next(closer: UInt8(ascii: "]"))
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try number()
        default: throw Fallback()
        }
    }
}
