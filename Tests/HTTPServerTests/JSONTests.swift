import MOMCore
import Testing
@testable import HTTPServer

@Suite struct JSONTests {
    @Test func parsesAllValueKinds() throws {
        let value = try JSONValue(parsing: #" { "a" : [1, -2, 3.5, 1e3, true, false, null], "b": {"c": "d"}, "big": 18446744073709551616 } "#)
        #expect(value["a"]?.arrayValue?.count == 7)
        #expect(value["a"]?.arrayValue?[0] == .integer(1))
        #expect(value["a"]?.arrayValue?[1] == .integer(-2))
        #expect(value["a"]?.arrayValue?[2] == .double(3.5))
        #expect(value["a"]?.arrayValue?[3].int64Value == 1000)
        #expect(value["a"]?.arrayValue?[4] == .bool(true))
        #expect(value["a"]?.arrayValue?[6].isNull == true)
        #expect(value["b"]?["c"]?.stringValue == "d")
        #expect(value["big"]?.doubleValue == 18446744073709551616)
        #expect(try JSONValue(parsing: "-9223372036854775808") == .integer(Int64.min))
        #expect(try JSONValue(parsing: "9223372036854775807").uint64Value == UInt64(Int64.max))
        #expect(try JSONValue(parsing: "\"x\"") == .string("x"))
        #expect(try JSONValue(parsing: "[]") == .array([]))
        #expect(try JSONValue(parsing: "{}") == .object([]))
    }

    @Test func duplicateKeysResolveToTheLast() throws {
        #expect(try JSONValue(parsing: #"{"a":1,"a":2}"#)["a"] == .integer(2))
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try JSONValue(parsing: #""q\" b\\ s\/ \b\f\n\r\t \u00e9 \u20AC \ud83d\ude00 é""#)
        #expect(value.stringValue == "q\" b\\ s/ \u{08}\u{0C}\n\r\t é € 😀 é")
    }

    @Test(arguments: [
        "", " ", "{", "[1,]", "[1 2]", "{\"a\"}", "{\"a\":}", "{a:1}", "{\"a\":1,}", "01", "-", "1.", ".5", "1e", "+1",
        "tru", "nul", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\uZZZZ\"", "\"\\ud83d\"", "\"\\ude00\"", "\"\\ud83d\\u0041\"",
        "\"a\u{01}b\"", "[1] 2", "NaN", "1e400", "'a'",
    ])
    func rejectsMalformedText(text: String) {
        #expect(throws: JSONError.self) { try JSONValue(parsing: text) }
    }

    @Test func rejectsInvalidUTF8() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC0, 0xAF, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xE2, 0x82, 0x22]] {
            #expect(throws: JSONError.self) { try JSONValue(parsing: bytes) }
        }
    }

    @Test func enforcesDepthAndSizeLimits() throws {
        let deep = String(repeating: "[", count: 65) + String(repeating: "]", count: 65)
        #expect(throws: JSONError(reason: .depthLimitExceeded, offset: 64)) { try JSONValue(parsing: deep) }
        let fits = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(throws: Never.self) { try JSONValue(parsing: fits) }
        // Far deeper than the stack could take if the limit were not checked.
        let hostile = String(repeating: "[", count: 1_000_000)
        #expect(throws: JSONError.self) { try JSONValue(parsing: hostile) }
        #expect(throws: JSONError(reason: .sizeLimitExceeded, offset: 4)) {
            try JSONValue(parsing: "[1,2]", limits: JSONLimits(depthMax: 8, bytesMax: 4))
        }
    }

    @Test func writerEscapesAndRoundTrips() throws {
        let original: JSONValue = .object([
            ("s", .string("quote\" backslash\\ nl\n tab\t ctl\u{01} del\u{7F} € 😀")),
            ("n", .array([.integer(0), .integer(-5), .integer(Int64.max), .double(0.25), .double(-3), .null, .bool(false)])),
            ("o", .object([("empty", .object([])), ("list", .array([]))])),
        ])
        let text = original.jsonText
        #expect(text.contains(#"quote\" backslash\\ nl\n tab\t ctl\u0001"#))
        #expect(try JSONValue(parsing: text) == original)
        var writer = JSONWriter()
        writer.beginArray()
        writer.double(.nan)
        writer.unsigned(UInt64.max)
        writer.base64String([0xFF, 0x00])
        writer.utf8String(Array("a\"b".utf8))
        writer.endArray()
        #expect(writer.text == #"[null,18446744073709551615,"/wA=","a\"b"]"#)
    }

    /// The word-at-a-time scan finds exactly the byte a byte-by-byte scan finds, for every byte
    /// value at every position of a word and in random buffers of every length up to 40 (so
    /// every alignment of the tail), and a value written with it reads back unchanged.
    @Test func theEscapeScanMatchesAByteByByteScan() throws {
        func naive(_ bytes: [UInt8], from start: Int) -> Int {
            bytes.indices.dropFirst(start).first { bytes[$0] < 0x20 || bytes[$0] == 0x22 || bytes[$0] == 0x5C } ?? bytes.count
        }
        func scan(_ bytes: [UInt8], from start: Int) -> Int {
            bytes.withUnsafeBufferPointer { JSONWriter.firstEscapeIndex(in: $0, from: start) }
        }
        for value in 0...255 {
            for position in 0..<8 {
                var word = [UInt8](repeating: UInt8(ascii: "a"), count: 8)
                word[position] = UInt8(value)
                let packed = word.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                let needs = value < 0x20 || value == 0x22 || value == 0x5C
                #expect(JSONWriter.wordNeedsEscape(packed) == needs, "byte \(value) at \(position)")
                #expect(scan(word + word, from: 0) == naive(word + word, from: 0), "byte \(value) at \(position)")
            }
        }
        var random = SeededRandom(seed: 20261207)
        for _ in 0..<2_000 {
            let count = Int(random.uniform(below: 41))
            // Mostly printable text with a few bytes that need escaping, and some anything-goes.
            let bytes = (0..<count).map { _ -> UInt8 in
                switch random.uniform(below: 20) {
                case 0: return [0x22, 0x5C, 0x0A, 0x00, 0x1F][Int(random.uniform(below: 5))]
                case 1: return UInt8(random.uniform(below: 256))
                default: return UInt8(0x20 + random.uniform(below: 0x5F))
                }
            }
            for start in 0...count {
                #expect(scan(bytes, from: start) == naive(bytes, from: start), "\(bytes) from \(start)")
            }
            if let text = String(validating: bytes, as: UTF8.self) {
                var writer = JSONWriter()
                writer.string(text)
                #expect(try JSONValue(parsing: writer.text) == .string(text))
            }
        }
    }

    /// The word-at-a-time ASCII path of `UTF8Validation` agrees with the standard library's
    /// strict validation: every multi-byte lead, continuation and invalid byte at every position
    /// of a word, and random mixes of ASCII runs, valid sequences and junk.
    @Test func utf8ValidationMatchesTheStandardLibrary() {
        func standard(_ bytes: [UInt8]) -> Bool { String(validating: bytes, as: UTF8.self) != nil }
        let sequences: [[UInt8]] = [
            [0xC3, 0xA9], [0xE2, 0x82, 0xAC], [0xF0, 0x9F, 0x98, 0x80], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80],
            [0xF4, 0x90, 0x80, 0x80], [0x80], [0xBF], [0xFF], [0xC3], [0xE2, 0x82], [0xF0, 0x9F, 0x98],
        ]
        for sequence in sequences {
            for position in 0..<17 {
                var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: 24)
                bytes.replaceSubrange(position..<(position + sequence.count), with: sequence)
                #expect(UTF8Validation.isValid(bytes) == standard(bytes), "\(sequence) at \(position)")
                let cut = Array(bytes.prefix(position + sequence.count))
                #expect(UTF8Validation.isValid(cut) == standard(cut), "\(sequence) ending the buffer at \(position)")
            }
        }
        var random = SeededRandom(seed: 20261207)
        for _ in 0..<3_000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int(random.uniform(below: 8)) {
                switch random.uniform(below: 4) {
                case 0: bytes += sequences[Int(random.uniform(below: UInt64(sequences.count)))]
                case 1: bytes.append(UInt8(random.uniform(below: 256)))
                default: bytes += (0..<Int(random.uniform(below: 20))).map { _ in UInt8(random.uniform(below: 0x80)) }
                }
            }
            #expect(UTF8Validation.isValid(bytes) == standard(bytes), "\(bytes)")
        }
    }

    @Test func plainKeysAreWrittenAsIs() throws {
        var writer = JSONWriter()
        writer.beginObject()
        writer.plainKey("offset")
        writer.unsigned(7)
        writer.plainKey("value_base64")
        writer.string("AA==")
        writer.endObject()
        #expect(writer.text == #"{"offset":7,"value_base64":"AA=="}"#)
    }

    /// Random documents survive write → parse unchanged. `MOM_SEED` replays one seed.
    @Test func randomDocumentsRoundTrip() throws {
        let seed = testSeed()
        var random = SeededRandom(seed: seed)
        for _ in 0..<300 {
            let value = randomValue(&random, depth: 0)
            let reparsed = try JSONValue(parsing: value.serialized())
            #expect(reparsed == value, "seed \(seed)")
        }
    }

    func randomValue(_ random: inout SeededRandom, depth: Int) -> JSONValue {
        switch random.uniform(below: depth > 4 ? 5 : 7) {
        case 0: return .null
        case 1: return .bool(random.chance(1, in: 2))
        case 2: return .integer(Int64(bitPattern: random.next()))
        case 3: return .double(Double(Int64(bitPattern: random.next() >> 12)) / 1024)
        case 4:
            let scalars = (0..<random.uniform(in: 0...8)).compactMap { _ in
                Unicode.Scalar(UInt32(random.uniform(below: 3) == 0 ? random.uniform(below: 0x20) : random.uniform(below: 0x11_0000)))
            }
            return .string(String(String.UnicodeScalarView(scalars)))
        case 5: return .array((0..<random.uniform(in: 0...4)).map { _ in randomValue(&random, depth: depth + 1) })
        default:
            return .object((0..<random.uniform(in: 0...4)).map { index in ("k\(index)", randomValue(&random, depth: depth + 1)) })
        }
    }
}

@Suite struct Base64Tests {
    /// RFC 4648 §10 test vectors.
    @Test(arguments: [
        ("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v"), ("foob", "Zm9vYg=="), ("fooba", "Zm9vYmE="), ("foobar", "Zm9vYmFy"),
    ])
    func rfc4648Vectors(plain: String, encoded: String) throws {
        #expect(Base64.encode(Array(plain.utf8)) == encoded)
        #expect(try Base64.decode(encoded) == Array(plain.utf8))
    }

    @Test func allBytesRoundTripAndUnpaddedInputDecodes() throws {
        let bytes = (0...255).map { UInt8($0) }
        #expect(try Base64.decode(Base64.encode(bytes)) == bytes)
        #expect(try Base64.decode("Zg") == Array("f".utf8))
        #expect(try Base64.decode("Zm8") == Array("fo".utf8))
        #expect(Base64.encode([0xFB, 0xFF]) == "+/8=")
    }

    /// The contiguous fast path, the non-contiguous fallback and appending after existing bytes
    /// agree for every tail length (0, 1 and 2 bytes left over).
    @Test func contiguousAndNonContiguousInputEncodeAlike() throws {
        for count in 0..<9 {
            let bytes = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 250) }
            var contiguous: [UInt8] = Array("x".utf8)
            Base64.encode(bytes, into: &contiguous)
            var slice: [UInt8] = Array("x".utf8)
            Base64.encode(([0] + bytes)[1...], into: &slice)
            var lazy: [UInt8] = Array("x".utf8)
            Base64.encode(bytes.lazy.map { $0 }, into: &lazy)
            #expect(contiguous == slice)
            #expect(contiguous == lazy)
            #expect(contiguous.count == 1 + (count + 2) / 3 * 4)
            #expect(try Base64.decode(bytes: Array(contiguous.dropFirst())) == bytes)
        }
    }

    /// The block decoder against a byte-at-a-time reference (the decoder before it), on
    /// random texts over the alphabet plus a few bytes outside it: same bytes or same offset.
    @Test func blockDecoderAgreesWithTheReference() {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var state: UInt64 = 0x5EED_B64
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        for _ in 0..<20_000 {
            var text = (0..<next() % 14).map { _ in alphabet[next() % alphabet.count] }
            if next() % 3 == 0, !text.isEmpty { text[next() % text.count] = Array("=! \n-".utf8)[next() % 5] }
            if next() % 3 == 0 { text += Array(repeating: UInt8(ascii: "="), count: next() % 3) }
            let decoded = Result { () throws(Base64.DecodeError) in try Base64.decode(bytes: text) }
            #expect(decoded == Self.referenceDecode(text), "\(text)")
        }
    }

    static func referenceDecode(_ text: [UInt8]) -> Result<[UInt8], Base64.DecodeError> {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
        var end = text.count
        if end % 4 == 0 && end > 0 {
            if text[end - 1] == UInt8(ascii: "=") { end -= 1 }
            if text[end - 1] == UInt8(ascii: "=") { end -= 1 }
        }
        if end % 4 == 1 { return .failure(Base64.DecodeError(offset: end - 1)) }
        var output: [UInt8] = []
        var accumulator: UInt32 = 0
        var pending = 0
        for index in 0..<end {
            guard let value = alphabet.firstIndex(of: text[index]) else { return .failure(Base64.DecodeError(offset: index)) }
            accumulator = accumulator << 6 | UInt32(value)
            pending += 1
            if pending == 4 {
                output += [UInt8(accumulator >> 16 & 0xFF), UInt8(accumulator >> 8 & 0xFF), UInt8(accumulator & 0xFF)]
                accumulator = 0
                pending = 0
            }
        }
        if pending == 2 {
            guard accumulator & 0xF == 0 else { return .failure(Base64.DecodeError(offset: end - 1)) }
            output.append(UInt8(accumulator >> 4 & 0xFF))
        } else if pending == 3 {
            guard accumulator & 0x3 == 0 else { return .failure(Base64.DecodeError(offset: end - 1)) }
            output += [UInt8(accumulator >> 10 & 0xFF), UInt8(accumulator >> 2 & 0xFF)]
        }
        return .success(output)
    }

    @Test(arguments: ["Z", "Zg=", "Z===", "Zm9v!", "Zm 9v", "Zh==", "Zm9=", "====", "-_8="])
    func rejectsMalformed(text: String) {
        #expect(throws: Base64.DecodeError.self) { try Base64.decode(text) }
    }
}
