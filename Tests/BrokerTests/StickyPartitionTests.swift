import HTTPServer
import MOMCore
import Testing
@testable import Broker

/// Records without a key or partition go to one partition per request (Kafka's sticky
/// partitioner), rotating over the partitions request by request.
@Suite struct StickyPartitionTests {
    static func body(_ records: Int, producer: (UInt64, UInt64)? = nil) -> [UInt8] {
        let list = (0..<records).map { #"{"value":"v\#($0)"}"# }.joined(separator: ",")
        let idempotent = producer.map { #""producer_id":\#($0.0),"sequence":\#($0.1),"# } ?? ""
        return Array(#"{\#(idempotent)"records":[\#(list)]}"#.utf8)
    }

    @Test func oneRequestIsOnePartitionAndRequestsRotate() throws {
        var seen: [Int] = []
        for start in 0..<10 {
            let request = try #require(ProduceRequest.parseStreaming(Self.body(16), partitions: 10, roundRobinStart: start, limits: .standard))
            #expect(Set(request.items.map(\.partition)).count == 1, "request \(start) stays on one partition")
            #expect(request.items.map(\.position) == Array(0..<16))
            seen.append(request.items[0].partition)
        }
        #expect(seen == Array(0..<10), "ten requests visit the ten partitions in turn")
    }

    @Test func keysAndExplicitPartitionsStillWin() throws {
        let body = Array(#"{"records":[{"value":"a"},{"key":"k","value":"b"},{"value":"c","partition":6},{"value":"d"}]}"#.utf8)
        let request = try #require(ProduceRequest.parseStreaming(body, partitions: 8, roundRobinStart: 13, limits: .standard))
        #expect(request.items.map(\.partition) == [5, Int(KeyHash.fnv1a(Array("k".utf8)) % 8), 6, 5])
    }

    @Test func anIdempotentRetryLandsWhereTheFirstAttemptDid() throws {
        let first = try #require(ProduceRequest.parseStreaming(Self.body(5, producer: (42, 7)), partitions: 12, roundRobinStart: 0, limits: .standard))
        let retry = try #require(ProduceRequest.parseStreaming(Self.body(5, producer: (42, 7)), partitions: 12, roundRobinStart: 9, limits: .standard))
        #expect(Set(first.items.map(\.partition)).count == 1)
        #expect(first.items.map(\.partition) == retry.items.map(\.partition), "the node's rotation does not move an idempotent request")
        #expect(first.items[0].partition == Int(KeyHash.mix(42, 7) % 12))
    }

    @Test func theTreeParserAgrees() throws {
        let tree = try ProduceRequest.parse(JSONValue(parsing: String(decoding: Self.body(4), as: UTF8.self)), partitions: 6, roundRobinStart: 4, limits: .standard)
        #expect(tree.items.map(\.partition) == [4, 4, 4, 4])
    }
}
