import HTTPServer
import MOMCore
import SystemIO
import Testing
@testable import Broker

/// Subscription routes on a standalone node, in process: lifecycle, poll, commit and lag.
@Suite struct SubscriptionRouteTests {
    typealias Node = SingleNodeTests

    static func produce(_ router: Router, _ topic: String, _ values: [(String, Int)]) async -> Bool {
        let records = values.map { #"{"value":"\#($0.0)","partition":\#($0.1)}"# }.joined(separator: ",")
        return await Node.call(router, .post, "/v1/topics/\(topic)/records", #"{"records":[\#(records)]}"#).0 == 200
    }

    static func values(_ body: JSONValue?) -> [String] {
        body?["records"]?.arrayValue?.compactMap { $0["value"]?.stringValue } ?? []
    }

    /// `next_offsets` as a commit body.
    static func commitBody(_ body: JSONValue?) -> String {
        JSONValue.object([("offsets", body?["next_offsets"] ?? .array([]))]).jsonText
    }

    static func highWatermarks(_ router: Router, _ topic: String, partitions: Int) async throws -> [UInt64] {
        var result: [UInt64] = []
        for partition in 0..<partitions {
            result.append(try #require(await Node.call(router, .get, "/v1/topics/\(topic)/partitions/\(partition)").1?["high_watermark"]?.uint64Value))
        }
        return result
    }

    static func lags(_ body: JSONValue?) -> [UInt64] {
        body?["partitions"]?.arrayValue?.compactMap { $0["lag"]?.uint64Value } ?? []
    }

    @Test func lifecycleAndErrors() async throws {
        let (node, router) = try await ExchangeRouteTests.setUp(topics: [("t", 2)])
        #expect(await Self.produce(router, "t", [("a", 0), ("b", 1), ("c", 0)]))
        let (created, body) = await Node.call(router, .post, "/v1/topics/t/subscriptions", #"{"name":"s1","start":"earliest"}"#)
        #expect(created == 201, "\(String(describing: body))")
        #expect(body?["start_offsets"]?.arrayValue?.compactMap { $0.uint64Value } == [0, 0])
        // High watermarks count every entry, the leaders' no-ops included.
        let hwms = try await Self.highWatermarks(router, "t", partitions: 2)
        let latest = await Node.call(router, .post, "/v1/topics/t/subscriptions", #"{"name":"s2"}"#)
        #expect(latest.0 == 201)
        #expect(latest.1?["start"]?.stringValue == "latest")
        #expect(latest.1?["start_offsets"]?.arrayValue?.compactMap { $0.uint64Value } == hwms, "latest = the high watermarks")
        #expect(await Node.call(router, .post, "/v1/topics/t/subscriptions", #"{"name":"s1"}"#).0 == 409)
        #expect(await Node.call(router, .post, "/v1/topics/t/subscriptions", #"{"name":"s3","start":"middle"}"#).0 == 400)
        #expect(await Node.call(router, .post, "/v1/topics/t/subscriptions", #"{"name":"a/b"}"#).0 == 400)
        #expect(await Node.call(router, .post, "/v1/topics/t/subscriptions", #"{}"#).0 == 400)
        #expect(await Node.call(router, .post, "/v1/topics/nope/subscriptions", #"{"name":"s"}"#).0 == 404)
        #expect(await Node.call(router, .get, "/v1/topics/t/subscriptions").1?["subscriptions"]?.arrayValue?.compactMap(\.stringValue) == ["s1", "s2"])
        #expect(await Node.call(router, .get, "/v1/topics/nope/subscriptions").0 == 404)

        let (described, description) = await Node.call(router, .get, "/v1/topics/t/subscriptions/s1")
        #expect(described == 200)
        #expect(description?["name"]?.stringValue == "s1" && description?["topic"]?.stringValue == "t")
        #expect(description?["partitions"]?.arrayValue?.compactMap { $0["committed_offset"]?.uint64Value } == [0, 0])
        #expect(description?["partitions"]?.arrayValue?.compactMap { $0["high_watermark"]?.uint64Value } == hwms)
        #expect(Self.lags(description) == hwms, "lag = high watermark - committed")
        #expect(Self.lags(await Node.call(router, .get, "/v1/topics/t/subscriptions/s2").1) == [0, 0])
        #expect(await Node.call(router, .get, "/v1/topics/t/subscriptions/nope").0 == 404)
        #expect(await Node.call(router, .get, "/v1/topics/nope/subscriptions/s1").0 == 404)
        #expect(await Node.call(router, .get, "/v1/topics/t/subscriptions/nope/records").0 == 404)
        #expect(await Node.call(router, .post, "/v1/topics/t/subscriptions/nope/commit", #"{"offsets":[{"partition":0,"offset":1}]}"#).0 == 404)

        #expect(await Node.call(router, .delete, "/v1/topics/t/subscriptions/s2").0 == 204)
        #expect(await Node.call(router, .delete, "/v1/topics/t/subscriptions/s2").0 == 404)
        #expect(await Node.call(router, .get, "/v1/topics/t/subscriptions/s2").0 == 404)
        #expect(await Node.call(router, .get, "/v1/topics/t/partitions/2").0 == 404)
        await node.stop()
    }

    @Test func pollCommitAndLag() async throws {
        let (node, router) = try await ExchangeRouteTests.setUp(topics: [("t", 2)])
        #expect(await Self.produce(router, "t", [("a", 0), ("b", 1), ("c", 0), ("d", 1), ("e", 0)]))
        #expect(await Node.call(router, .post, "/v1/topics/t/subscriptions", #"{"name":"s","start":"earliest"}"#).0 == 201)

        let (polled, page) = await Node.call(router, .get, "/v1/topics/t/subscriptions/s/records")
        #expect(polled == 200)
        #expect(Set(Self.values(page)) == ["a", "b", "c", "d", "e"])
        let records = try #require(page?["records"]?.arrayValue)
        #expect(records.allSatisfy { $0["partition"]?.int64Value != nil && $0["offset"]?.uint64Value != nil })
        // Polling again without a commit returns the same records: the cursor did not move.
        #expect(Set(Self.values(await Node.call(router, .get, "/v1/topics/t/subscriptions/s/records").1)) == ["a", "b", "c", "d", "e"])
        // max_records bounds the answer and round-robins over partitions.
        let two = await Node.call(router, .get, "/v1/topics/t/subscriptions/s/records?max_records=2").1
        #expect(Set(two?["records"]?.arrayValue?.compactMap { $0["partition"]?.int64Value } ?? []) == [0, 1])

        // Commit one partition by hand: lag follows.
        let committed = await Node.call(router, .post, "/v1/topics/t/subscriptions/s/commit", #"{"offsets":[{"partition":1,"offset":2}]}"#)
        #expect(committed.0 == 200)
        #expect(committed.1?["offsets"]?.arrayValue?.first?["offset"]?.uint64Value == 2)
        let hwms = try await Self.highWatermarks(router, "t", partitions: 2)
        #expect(Self.lags(await Node.call(router, .get, "/v1/topics/t/subscriptions/s").1) == [hwms[0], hwms[1] - 2])
        #expect(Set(Self.values(await Node.call(router, .get, "/v1/topics/t/subscriptions/s/records").1)) == ["a", "c", "d", "e"])

        // Commit what a poll returned: lag 0, nothing more to read.
        let rest = await Node.call(router, .get, "/v1/topics/t/subscriptions/s/records").1
        #expect(await Node.call(router, .post, "/v1/topics/t/subscriptions/s/commit", Self.commitBody(rest)).0 == 200)
        #expect(Self.lags(await Node.call(router, .get, "/v1/topics/t/subscriptions/s").1) == [0, 0])
        #expect(Self.values(await Node.call(router, .get, "/v1/topics/t/subscriptions/s/records").1).isEmpty)

        // New records show up after the cursor only.
        #expect(await Self.produce(router, "t", [("f", 1)]))
        let fresh = await Node.call(router, .get, "/v1/topics/t/subscriptions/s/records").1
        #expect(Self.values(fresh) == ["f"])
        #expect(Self.lags(await Node.call(router, .get, "/v1/topics/t/subscriptions/s").1) == [0, 1])

        // Bad commits.
        let hwm = await Node.call(router, .get, "/v1/topics/t/partitions/1").1?["high_watermark"]?.uint64Value ?? 0
        let past = await Node.call(router, .post, "/v1/topics/t/subscriptions/s/commit", #"{"offsets":[{"partition":1,"offset":\#(hwm + 1)}]}"#)
        #expect(past.0 == 416 && past.1?["error"]?["code"]?.stringValue == "offset_out_of_range", "past the high watermark")
        for bad in [#"{"offsets":[]}"#, #"{}"#, #"{"offsets":[{"partition":2,"offset":0}]}"#, #"{"offsets":[{"partition":0}]}"#,
                    #"{"offsets":[{"partition":0,"offset":-1}]}"#, #"{"offsets":[{"partition":0,"offset":0},{"partition":0,"offset":1}]}"#,
                    #"{"offsets":[1]}"#] {
            #expect(await Node.call(router, .post, "/v1/topics/t/subscriptions/s/commit", bad).0 == 400, "\(bad)")
        }
        #expect(await Node.call(router, .get, "/v1/topics/t/subscriptions/s/records?max_records=0").0 == 400)
        #expect(await Node.call(router, .get, "/v1/topics/t/subscriptions/s/records?wait_ms=abc").0 == 400)
        await node.stop()
    }

    /// A poll at the end of every partition waits for data, and answers as soon as some arrives.
    @Test func longPollWakesOnNewData() async throws {
        let (node, router) = try await ExchangeRouteTests.setUp(topics: [("t", 3)])
        #expect(await Node.call(router, .post, "/v1/topics/t/subscriptions", #"{"name":"s","start":"latest"}"#).0 == 201)
        // An empty wait returns empty once wait_ms runs out.
        let empty = await Node.call(router, .get, "/v1/topics/t/subscriptions/s/records?wait_ms=50")
        #expect(empty.0 == 200 && Self.values(empty.1).isEmpty)
        let waiting = Task { await Node.call(router, .get, "/v1/topics/t/subscriptions/s/records?wait_ms=20000") }
        try await Task.sleep(nanoseconds: 200_000_000)
        #expect(await Self.produce(router, "t", [("late", 2)]))
        let (status, body) = await waiting.value
        #expect(status == 200)
        #expect(Self.values(body) == ["late"])
        await node.stop()
    }

    /// The committed cursor lives in the partition's log: a replica that replays the log (a
    /// new leader after failover, a restarted node) rebuilds the same cursors.
    @Test func commitsOfTheirOwnOffsetSkipTheCommitRecord() {
        var cursors = SubscriptionCursors()
        let subscription = SubscriptionConfig(topic: "t", name: "s", id: 1, start: .earliest, startOffsets: [.zero])
        cursors.apply(.subscriptionCommit(SubscriptionCommit(subscription: "s", subscriptionID: 1, offset: Offset(5))), at: Offset(5))
        #expect(cursors.position(of: subscription, partition: PartitionID(0)) == Offset(6))
        #expect(cursors.lag(of: subscription, partition: PartitionID(0), highWatermark: Offset(6)) == 0)
        cursors.apply(.subscriptionCommit(SubscriptionCommit(subscription: "s", subscriptionID: 1, offset: Offset(3))), at: Offset(6))
        #expect(cursors.position(of: subscription, partition: PartitionID(0)) == Offset(3), "a rewind is kept as given")
    }
}
