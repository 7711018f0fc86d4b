import Foundation
import HTTPServer
import MOMCore
import Testing
@testable import Broker

/// The streaming JSON produce pass against the tree parser (`ProduceRequest.parseTree`), the
/// oracle: every body the pass takes must give the tree's request, and the route's answer
/// (pass first, tree for the rest) must be the tree's answer — request, or status, code and
/// message.
@Suite struct ProduceStreamingTests {
    static let partitions = 4
    static let limits: Limits = {
        var limits = Limits()
        limits.batchRecordsMax = 8
        limits.recordKeyBytesMax = 16
        limits.recordValueBytesMax = 64
        limits.recordHeadersMax = 3
        limits.recordHeaderNameBytesMax = 8
        limits.requestBodyBytesMax = 4_096
        return limits
    }()

    /// Bodies the streaming pass must take itself (the common shapes) and agree on.
    static let taken: [String] = [
        #"{"records":[{"value":"hello"}]}"#,
        #" { "records" : [ { "value" : "a" } , { "value" : "b" } ] } "# + "\n",
        #"{"records":[{"key":"k1","value":"v","headers":{"a":"1","b":"é"},"partition":3}]}"#,
        #"{"records":[{"key_base64":"AAE=","value_base64":"/w=="}]}"#,
        #"{"records":[{"key":"k","key_base64":"!!","value":"v","value_base64":"%"}]}"#,
        #"{"records":[{"key":"k","key_base64":"AAE=","value":"v","value_base64":"AAE="}]}"#,
        #"{"records":[{"key":null,"value":null,"value_base64":"aGk","headers":null,"partition":null,"position":null}]}"#,
        #"{"records":[{"value":"x\n\"y\\\/\b\f\r\t\u00e9\ud83d\ude00"}],"extra":{"a":[1,2.5,-0,1e300,true,false,null,"\u0041"]}}"#,
        #"{"records":[{"value":"v","headers":{"h":"1","h":"2"}}]}"#,
        #"{"records":[{"value":"v","position":5},{"value":"w"}],"producer_id":7,"sequence":0}"#,
        #"{"producer_id":9223372036854775807,"sequence":12,"records":[{"value":"v"},{"value":"w","key":"k"}]}"#,
        #"{"records":[{"value":"\u0000","unknown":{"deep":[[[{}]]]}}]}"#,
        #"{"records":[{"value":""},{"value":"é漢字🎉"}]}"#,
        #"{"records":[{"value_base64":"\u0041\u0041\u003d\u003d"}]}"#,
    ]

    /// Bodies the tree parser answers, taken or not by the pass: errors and unusual shapes.
    static let edges: [String] = [
        "", " ", "[]", "null", #""records""#, "{}", #"{"records":[]}"#, #"{"records":{}}"#, #"{"records":null}"#,
        #"{"records":[{"value":"v"}]} x"#, #"{"records":[{"value":"v"}]}}"#, #"{"records":[{"value":"v"}],}"#,
        #"{"records":[{"value":"v"},]}"#, #"{"records":[{"value":"v"}]"#, #"{"records":[1]}"#, #"{"records":[{}]}"#,
        #"{"records":[{"value":5}]}"#, #"{"records":[{"key":"k","key_base64":7,"value":"v","value_base64":[]}]}"#, #"{"records":[{"value":"v","key":5}]}"#, #"{"records":[{"value_base64":"a"}]}"#,
        #"{"records":[{"value_base64":"a b="}]}"#, #"{"records":[{"value":"v","partition":4}]}"#,
        #"{"records":[{"value":"v","partition":-1}]}"#, #"{"records":[{"value":"v","partition":1.0}]}"#,
        #"{"records":[{"value":"v","partition":1e0}]}"#, #"{"records":[{"value":"v","partition":-0}]}"#,
        #"{"records":[{"value":"v","partition":01}]}"#, #"{"records":[{"value":"v","partition":"1"}]}"#,
        #"{"records":[{"value":"v","partition":99999999999999999999}]}"#, #"{"records":[{"value":"v","x":1e400}]}"#,
        #"{"records":[{"value":"v","x":-}]}"#, #"{"records":[{"value":"v","x":1.}]}"#, #"{"records":[{"value":"v","x":tru}]}"#,
        #"{"records":[{"value":"v","position":9}]}"#, #"{"records":[{"value":"v","position":8}]}"#,
        #"{"records":[{"value":"v"}],"producer_id":1}"#, #"{"records":[{"value":"v"}],"sequence":1}"#,
        #"{"records":[{"value":"v"}],"producer_id":-1,"sequence":1}"#, #"{"records":[{"value":"v"}],"producer_id":null,"sequence":null}"#,
        #"{"records":[{"value":"v"}],"records":[{"value":"w"}]}"#, #"{"records":[{"value":"v","value":"w"}]}"#,
        #"{"records":[{"value":"v"}],"producer_id":1,"producer_id":2,"sequence":3}"#,
        #"{"record\u0073":[{"value":"v"}]}"#, #"{"records":[{"val\u0075e":"v"}]}"#, #"{"records":[{"value":"v","headers":{"\u0068":"1"}}]}"#,
        #"{"records":[{"value":"\ud83d"}]}"#, #"{"records":[{"value":"\ude00"}]}"#, #"{"records":[{"value":"\ud83d\u0041"}]}"#,
        #"{"records":[{"value":"\x"}]}"#, #"{"records":[{"value":"\u12G4"}]}"#, #"{"records":[{"value":"\u12"}]}"#,
        #"{"records":[{"value":"v","headers":{"":"1"}}]}"#, #"{"records":[{"value":"v","headers":{"123456789":"1"}}]}"#,
        #"{"records":[{"value":"v","headers":{"a":"1","b":"2","c":"3","d":"4"}}]}"#, #"{"records":[{"value":"v","headers":{"a":1}}]}"#,
        #"{"records":[{"value":"v","headers":{"a":null}}]}"#, #"{"records":[{"value":"v","headers":[]}]}"#,
        #"{"records":[{"value":"v","headers":"x"}]}"#, #"{"records":[{"key":"12345678901234567","value":"v"}]}"#,
        #"{"records":[{"value":"v"}],"x":"# + String(repeating: "[", count: 30) + String(repeating: "]", count: 30) + "}",
        #"{"records":[{"value":"v"}],"x":"# + String(repeating: "[", count: 31) + String(repeating: "]", count: 31) + "}",
        #"{"records":[{"value":"v","x":"# + String(repeating: "[", count: 29) + String(repeating: "]", count: 29) + "}]}",
        #"{"records":[{"value":"v","x":"# + String(repeating: "[", count: 30) + String(repeating: "]", count: 30) + "}]}",
        "{\"records\":[{\"value\":\"a\u{01}b\"}]}", "{\"records\":[{\"value\":\"tab\there\"}]}",
        #"{"records":["# + Array(repeating: #"{"value":"v"}"#, count: 9).joined(separator: ",") + "]}",
        #"{"records":["# + Array(repeating: #"{"value":"v"}"#, count: 8).joined(separator: ",") + "]}",
        #"{"records":[{"value":""# + String(repeating: "x", count: 65) + #""}]}"#,
        #"{"records":[{"value":""# + String(repeating: "x", count: 64) + #""}]}"#,
        #"{"records":[{"value":""# + String(repeating: "x", count: 4_100) + #""}]}"#,
    ]

    /// Raw byte bodies: invalid UTF-8 in values, names and skipped members; a BOM.
    static let rawEdges: [[UInt8]] = [
        Array(#"{"records":[{"value":""#.utf8) + [0xC3, 0x28] + Array(#""}]}"#.utf8),
        Array(#"{"records":[{"value":""#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}]}"#.utf8),
        Array(#"{"records":[{"value":"\n"#.utf8) + [0xC0, 0xAF] + Array(#""}]}"#.utf8),
        Array(#"{"records":[{"value":"v","x"#.utf8) + [0xFF] + Array(#"":1}]}"#.utf8),
        Array(#"{"records":[{"value":"v","x":""#.utf8) + [0xF4, 0x90, 0x80, 0x80] + Array(#""}]}"#.utf8),
        Array(#"{"records":[{"value":"v","headers":{"h":""#.utf8) + [0xE2, 0x82] + Array(#""}}]}"#.utf8),
        [0xEF, 0xBB, 0xBF] + Array(#"{"records":[{"value":"v"}]}"#.utf8),
    ]

    @Test func takesTheCommonShapesAndAgreesWithTheTree() throws {
        for text in Self.taken {
            let body = Array(text.utf8)
            let streamed = ProduceRequest.parseStreaming(body, partitions: Self.partitions, roundRobinStart: 1, limits: Self.limits)
            #expect(streamed != nil, "the streaming pass left \(text) to the tree")
            try Self.expectSameAnswer(body)
        }
    }

    @Test func answersEdgeCasesAsTheTreeDoes() throws {
        for text in Self.edges { try Self.expectSameAnswer(Array(text.utf8)) }
        for body in Self.rawEdges { try Self.expectSameAnswer(body) }
        // A few must still be refused: the comparison alone would pass if both accepted all.
        for text in [#"{"records":[]}"#, #"{"records":[{"value":"v"}]} x"#, #"{"records":[{"value":"\ud83d"}]}"#] {
            #expect(throws: HTTPError.self) { try Self.route(Array(text.utf8)) }
        }
    }

    @Test func seededMutationsAnswerAsTheTreeDoes() throws {
        for seed in TestSeed.seeds(count: 4, base: 0x5EED_0008) {
            var random = SeededRandom(seed: seed)
            for _ in 0..<500 {
                let base = Array((Self.taken + Self.edges)[Int(random.next() % UInt64(Self.taken.count + Self.edges.count))].utf8)
                let body = Self.mutate(base, &random)
                try Self.expectSameAnswer(body, comment: "MOM_SEED=\(seed) body \(body)")
            }
        }
    }

    @Test func keepsTheRecordsAndRoutingOfTheTree() throws {
        let body = Array(#"{"records":[{"key":"k","value":"a"},{"value":"b","partition":2},{"value":"c"}]}"#.utf8)
        let request = try #require(ProduceRequest.parseStreaming(body, partitions: 4, roundRobinStart: 3, limits: Self.limits))
        #expect(request.items.map { Array($0.value) } == [Array("a".utf8), Array("b".utf8), Array("c".utf8)])
        #expect(request.items.map(\.partition) == [Int(KeyHash.fnv1a(Array("k".utf8)) % 4), 2, 3], "keyless records go to the request's sticky partition")
        #expect(request.items.map(\.position) == [0, 1, 2])
    }

    /// Queue sends: the same bodies with `messages`, where `partition` and `position` are
    /// ignored and a top-level `records` too; the tree's error messages say "message".
    @Test func queueSendsAnswerAsTheTreeDoes() throws {
        let queueOnly = [
            #"{"messages":[{"value":"v","partition":99,"position":-1}],"records":7}"#,
            #"{"messages":[{"value":"v","partition":[1,{"a":2}]}]}"#,
            #"{"records":[{"value":"v"}]}"#, #"{"messages":[]}"#, #"{"messages":[{"value":"v","partition":1.}]}"#,
        ]
        let bodies = (Self.taken + Self.edges).map { $0.replacingOccurrences(of: "records", with: "messages") } + queueOnly
        var random = SeededRandom(seed: TestSeed.seeds(count: 1, base: 0x5EED_0009)[0])
        for (index, text) in bodies.enumerated() {
            let body = Array(text.utf8)
            if index < Self.taken.count || index == bodies.count - queueOnly.count {
                #expect(Self.queueStreamed(body) != nil, "the streaming pass left \(text) to the tree")
            }
            try Self.expectSameQueueAnswer(body)
            for _ in 0..<50 { try Self.expectSameQueueAnswer(Self.mutate(body, &random)) }
        }
    }

    /// Exchange publishes: `messages` with a `routing_key` each (required, at most
    /// `bindingKeyBytesMax` bytes, no NUL); `partition` and `position` are not read.
    @Test func publishesAnswerAsTheTreeDoes() throws {
        let publishOnly = [
            #"{"messages":[{"routing_key":"a.b","value":"v","partition":"x"},{"routing_key":"","key":"k","value_base64":"AA=="}]}"#,
            #"{"messages":[{"routing_key":"caf\u00e9","value":"v","headers":{"h":"1"}}],"producer_id":3,"sequence":4}"#,
            #"{"messages":[{"value":"v"}]}"#, #"{"messages":[{"routing_key":null,"value":"v"}]}"#,
            #"{"messages":[{"routing_key":5,"value":"v"}]}"#, #"{"messages":[{"routing_key":"a\u0000b","value":"v"}]}"#,
            #"{"messages":[{"routing_key":""# + String(repeating: "r", count: 256) + #"","value":"v"}]}"#,
            #"{"messages":[{"routing_key":"a","routing_key":"b","value":"v"}]}"#,
        ]
        let bodies = (Self.taken + Self.edges).map {
            $0.replacingOccurrences(of: "records", with: "messages").replacingOccurrences(of: #"{"value"#, with: #"{"routing_key":"r.k","value"#)
        } + publishOnly
        var random = SeededRandom(seed: TestSeed.seeds(count: 1, base: 0x5EED_000A)[0])
        for text in bodies {
            let body = Array(text.utf8)
            try Self.expectSamePublish(body)
            for _ in 0..<50 { try Self.expectSamePublish(Self.mutate(body, &random)) }
        }
        for text in publishOnly.prefix(2) {
            #expect(PublishRequest.parseStreaming(Array(text.utf8), limits: Self.limits) != nil, "the streaming pass left \(text) to the tree")
        }
    }

    static func expectSamePublish(_ body: [UInt8]) throws {
        let note = Comment(rawValue: String(decoding: body.prefix(300), as: UTF8.self))
        guard let streamed = PublishRequest.parseStreaming(body, limits: limits) else { return }
        let tree = try #require(try? PublishRequest.parseTree(request(body), limits: limits), note)
        func render(_ request: PublishRequest) -> [String] {
            ["\(String(describing: request.producer))"] + request.messages.map { message in
                "\(message.position) \(message.routingKey) \(String(describing: message.key)) \(message.value) \(message.headers.map { "\($0.name)=\($0.value)" })"
            }
        }
        #expect(render(streamed) == render(tree), note)
    }

    static func queueStreamed(_ body: [UInt8]) -> ProduceRequest? {
        ProduceRequest.parseStreaming(body, form: .queueSend, partitions: partitions, roundRobinStart: 1, limits: limits)
    }

    static func expectSameQueueAnswer(_ body: [UInt8]) throws {
        let note = Comment(rawValue: String(decoding: body.prefix(300), as: UTF8.self))
        let tree = Result { () throws(HTTPError) in
            try BrokerAPI.parseQueueSendTree(request(body), partitions: partitions, roundRobinStart: 1, limits: limits)
        }
        guard let streamed = queueStreamed(body) else { return }
        let treeRequest = try #require(try? tree.get(), note)
        #expect(snapshot(streamed) == snapshot(treeRequest), note)
    }

    static func route(_ body: [UInt8]) throws(HTTPError) -> ProduceRequest {
        try ProduceRequest.parse(request(body), partitions: partitions, roundRobinStart: 1, limits: limits)
    }

    static func request(_ body: [UInt8]) -> HTTPRequest {
        HTTPRequest(method: .post, target: "/v1/topics/t/records", headers: HTTPHeaders(), body: body)
    }

    /// The route's answer is the tree's, and what the pass takes is what the tree makes.
    static func expectSameAnswer(_ body: [UInt8], comment: String? = nil) throws {
        let note = Comment(rawValue: comment ?? String(decoding: body.prefix(300), as: UTF8.self))
        let tree = Result { () throws(HTTPError) in
            try ProduceRequest.parseTree(request(body), partitions: partitions, roundRobinStart: 1, limits: limits)
        }
        let routed = Result { () throws(HTTPError) in try route(body) }
        if let streamed = ProduceRequest.parseStreaming(body, partitions: partitions, roundRobinStart: 1, limits: limits) {
            let treeRequest = try #require(try? tree.get(), note)
            #expect(snapshot(streamed) == snapshot(treeRequest), note)
        }
        switch (routed, tree) {
        case (.success(let a), .success(let b)): #expect(snapshot(a) == snapshot(b), note)
        case (.failure(let a), .failure(let b)):
            #expect(a.status.code == b.status.code && a.code == b.code && a.message == b.message, note)
        default: Issue.record(Comment(rawValue: "route \(routed) but tree \(tree): \(note.rawValue)"))
        }
    }

    /// A comparable rendering of a request (ProduceRequest is not Equatable).
    static func snapshot(_ request: ProduceRequest) -> [String] {
        ["\(String(describing: request.producerID)) \(String(describing: request.sequence))"] + request.items.map { item in
            "\(item.position) \(item.partition) \(String(describing: item.key)) \(item.value) \(item.headers.map { "\($0.name)=\($0.value)" })"
        }
    }

    /// One to three byte edits biased to JSON's structural bytes and escapes.
    static func mutate(_ bytes: [UInt8], _ random: inout SeededRandom) -> [UInt8] {
        let alphabet = Array(#"{}[]:,"\u0123456789-+.eEtrufalsn dD8 "#.utf8) + [0x00, 0x1F, 0x80, 0xC3, 0xED, 0xFF]
        var result = bytes
        for _ in 0...(random.next() % 3) {
            let position = result.isEmpty ? 0 : Int(random.next() % UInt64(result.count))
            let byte = alphabet[Int(random.next() % UInt64(alphabet.count))]
            switch random.next() % 4 {
            case 0 where !result.isEmpty: result[position] = byte
            case 1: result.insert(byte, at: position)
            case 2 where !result.isEmpty: result.remove(at: position)
            default:
                let cut = result.isEmpty ? 0 : Int(random.next() % UInt64(result.count))
                result = Array(result[..<min(position, cut)] + result[max(position, cut)...])
            }
        }
        return result
    }
}
