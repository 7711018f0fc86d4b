@testable import Auth
import Foundation
import MOMCore
import Testing

private func parse(_ text: String) -> [String: JSONValue]? {
    JSONParser.parseObject(Array(text.utf8))
}

@Suite("the strict JSON parser behind token parsing")
struct JSONParserTests {
    @Test("objects with every kind of value")
    func values() throws {
        let object = try #require(parse(#" { "s":"x", "n":-12, "f":1.5e3, "t":true, "F":false, "z":null, "a":[1,[]], "o":{"k":{}} } "#))
        #expect(object["s"] == .string("x"))
        #expect(object["n"] == .number("-12") && object["n"]?.integerValue == -12)
        #expect(object["f"] == .number("1.5e3") && object["f"]?.integerValue == nil)
        #expect(object["t"] == .bool(true) && object["t"]?.integerValue == nil)
        #expect(object["F"] == .bool(false) && object["z"] == .null)
        #expect(object["a"] == .array([.number("1"), .array([])]))
        #expect(object["o"] == .object(["k": .object([:])]))
        #expect(parse("{}") == [:])
    }

    @Test("string escapes, including a surrogate pair, and raw UTF-8")
    func escapes() throws {
        let object = try #require(parse(#"{"e":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00","r":"é😀"}"#))
        #expect(object["e"] == .string("\"\\/\u{08}\u{0C}\n\r\té😀"))
        #expect(object["r"] == .string("é😀"))
    }

    @Test("refuses what RFC 8259 forbids, duplicate keys, and deep nesting")
    func refusals() {
        let bad = [
            "", "[]", "\"s\"", "1", "{", "{\"a\":1", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "{\"a\":1}x",
            "{\"a\":01}", "{\"a\":1.}", "{\"a\":-}", "{\"a\":.5}", "{\"a\":1e}", "{\"a\":+1}", "{\"a\":tru}",
            "{\"a\":\"\u{01}\"}", "{\"a\":\"\\x\"}", "{\"a\":\"\\ud83d\"}", "{\"a\":\"\\ude00\"}", "{\"a\":\"\\u12\"}",
            "{\"a\":1,\"a\":2}", "{\"a\":[1 2]}", "{\"a\":'x'}", "{\"a\":1e400}",
        ]
        for text in bad {
            #expect(parse(text) == nil, "\(text)")
        }
        #expect(JSONParser.parseObject([0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xFF, 0x22, 0x7D]) == nil)  // invalid UTF-8
        let deep = "{\"a\":" + String(repeating: "[", count: 100) + String(repeating: "]", count: 100) + "}"
        #expect(parse(deep) == nil)
        let shallow = "{\"a\":" + String(repeating: "[", count: 10) + String(repeating: "]", count: 10) + "}"
        #expect(parse(shallow) != nil)
    }

    @Test("on random mutations it never traps, and accepts only what Foundation also accepts (seeded; MOM_SEED replays)")
    func mutations() {
        let seed = testSeed()
        var random = SeededRandom(seed: seed)
        let base = Array(#"{"sub":"alice","role":"admin","iss":"mom","iat":1700000000,"exp":1700003600,"a":[1,{"b":"\u00e9"}]}"#.utf8)
        let alphabet = Array(#"{}[]":,.-+eE0123456789\ueftnrl"#.utf8) + [0x00, 0x1F, 0x80, 0xFF]
        var accepted = 0
        for _ in 0..<2_000 {
            var text = base
            for _ in 0..<random.uniform(in: 1...4) {
                let position = Int(random.uniform(below: UInt64(text.count)))
                switch random.uniform(below: 3) {
                case 0: text[position] = alphabet[Int(random.uniform(below: UInt64(alphabet.count)))]
                case 1: text.remove(at: position)
                default: text.insert(alphabet[Int(random.uniform(below: UInt64(alphabet.count)))], at: position)
                }
                if text.isEmpty { break }
            }
            if JSONParser.parseObject(text) != nil {
                accepted += 1
                // A differential check: this parser is stricter than Foundation's, never looser.
                let foundation = try? JSONSerialization.jsonObject(with: Data(text)) as? [String: Any]
                #expect(foundation != nil, "accepted \(String(decoding: text, as: UTF8.self)); MOM_SEED=\(seed)")
            }
        }
        #expect(accepted < 2_000, "MOM_SEED=\(seed)")
    }
}
