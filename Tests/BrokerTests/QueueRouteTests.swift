import HTTPServer
import MOMCore
import Testing
@testable import Broker

/// The queue routes on a standalone node, in process (no sockets, memory logs): every
/// endpoint's success and error paths, redelivery, long-poll and the dead-letter move.
@Suite struct QueueRouteTests {
    typealias Node = SingleNodeTests

    /// A node with queue `name` (1 partition unless told) whose partitions have leaders.
    static func nodeWithQueue(_ body: String, groups: Int) async throws -> (BrokerNode, Router) {
        let (node, router) = try await Node.startNode()
        #expect(await Node.waitForMeta(node))
        let (status, json) = await Node.call(router, .post, "/v1/queues", body)
        #expect(status == 201, "create: \(String(describing: json))")
        #expect(await Node.waitForLeaders(node, count: 1 + groups))
        return (node, router)
    }

    static func receipts(_ json: JSONValue?) -> [String] {
        json?["messages"]?.arrayValue?.compactMap { $0["receipt"]?.stringValue } ?? []
    }

    @Test func createListDescribeDelete() async throws {
        let (node, router) = try await Self.nodeWithQueue(
            #"{"name":"jobs","partitions":2,"replication_factor":1,"ack_timeout_ms":5000,"max_deliveries":3}"#, groups: 4)
        #expect(await Node.call(router, .post, "/v1/queues", #"{"name":"jobs","partitions":1}"#).0 == 409)
        #expect(await Node.call(router, .post, "/v1/topics", #"{"name":"jobs"}"#).0 == 409, "topics and queues share names")
        let (listed, list) = await Node.call(router, .get, "/v1/queues")
        #expect(listed == 200)
        #expect(list?["queues"]?.arrayValue?.compactMap(\.stringValue) == ["jobs", "jobs.dead-letter"])

        let (described, stats) = await Node.call(router, .get, "/v1/queues/jobs")
        #expect(described == 200)
        #expect(stats?["name"]?.stringValue == "jobs")
        #expect(stats?["depth"]?.uint64Value == 0)
        #expect(stats?["in_flight"]?.uint64Value == 0)
        #expect(stats?["dead_lettered"]?.uint64Value == 0)
        #expect(stats?["ack_timeout_ms"]?.uint64Value == 5000)
        #expect(stats?["max_deliveries"]?.int64Value == 3)
        #expect(stats?["dead_letter_queue"]?.stringValue == "jobs.dead-letter")
        #expect(stats?["partitions"]?.arrayValue?.count == 2)
        let partition = await Node.call(router, .get, "/v1/queues/jobs/partitions/1")
        #expect(partition.0 == 200)
        #expect(partition.1?["depth"]?.uint64Value == 0)
        #expect(await Node.call(router, .get, "/v1/queues/jobs/partitions/2").0 == 404)
        #expect(await Node.call(router, .get, "/v1/queues/nope").0 == 404)

        #expect(await Node.call(router, .delete, "/v1/queues/jobs.dead-letter").0 == 400, "a dead-letter queue goes with its source")
        #expect(await Node.call(router, .delete, "/v1/queues/jobs").0 == 204)
        #expect(await Node.call(router, .delete, "/v1/queues/jobs").0 == 404)
        #expect(await Node.call(router, .get, "/v1/queues/jobs.dead-letter").0 == 404, "deleted with its source")
        #expect(await Node.call(router, .get, "/v1/queues").1?["queues"]?.arrayValue?.isEmpty == true)
        await node.stop()
    }

    @Test func createRejectsBadInput() async throws {
        let (node, router) = try await Node.startNode()
        #expect(await Node.waitForMeta(node))
        for body in [
            "not json", "[]", #"{"partitions":1}"#, #"{"name":""}"#, #"{"name":"a/b"}"#, #"{"name":7}"#,
            #"{"name":"q","partitions":0}"#, #"{"name":"q","partitions":"3"}"#, #"{"name":"q","replication_factor":0}"#,
            #"{"name":"q","replication_factor":2}"#, #"{"name":"q","ack_timeout_ms":0}"#, #"{"name":"q","ack_timeout_ms":99999999999}"#,
            #"{"name":"q","max_deliveries":0}"#, #"{"name":"q","max_deliveries":1000000}"#,
            #"{"name":"\#(String(repeating: "x", count: 240))","max_deliveries":2}"#,
        ] {
            let (status, json) = await Node.call(router, .post, "/v1/queues", body)
            #expect(status == 400, "\(body) → \(status) \(String(describing: json))")
            #expect(json?["error"]?["code"]?.stringValue != nil, "errors are JSON")
        }
        // Defaults: 3 partitions, as many replicas as there are nodes (one here).
        let (created, json) = await Node.call(router, .post, "/v1/queues", #"{"name":"defaults"}"#)
        #expect(created == 201)
        #expect(json?["partitions"]?.arrayValue?.count == 3)
        #expect(json?["ack_timeout_ms"]?.uint64Value == 30_000)
        #expect(json?["replication_factor"]?.int64Value == 1)
        await node.stop()
    }

    @Test func sendReceiveAck() async throws {
        let (node, router) = try await Self.nodeWithQueue(#"{"name":"work","partitions":2}"#, groups: 2)
        let (sent, offsets) = await Node.call(router, .post, "/v1/queues/work/messages", #"""
            {"messages":[{"key":"k1","value":"one","headers":{"h":"v"}},{"value":"two"},{"value_base64":"/wA="},
             {"key_base64":"/wE=","value":"four"},{"value":"five","partition":1}]}
            """#)
        #expect(sent == 200, "\(String(describing: offsets))")
        #expect(offsets?["offsets"]?.arrayValue?.count == 5)

        let (first, batch) = await Node.call(router, .post, "/v1/queues/work/receive", #"{"max_messages":3}"#)
        #expect(first == 200)
        let messages = try #require(batch?["messages"]?.arrayValue)
        #expect(messages.count == 3)
        #expect(messages.allSatisfy { $0["delivery_count"]?.int64Value == 1 && $0["offset"]?.uint64Value != nil && $0["partition"] != nil })
        let (second, rest) = await Node.call(router, .post, "/v1/queues/work/receive", #"{"max_messages":10,"wait_ms":0}"#)
        #expect(second == 200)
        let all = messages + (rest?["messages"]?.arrayValue ?? [])
        #expect(all.count == 5, "each message once")
        #expect(Set(all.compactMap { $0["value"]?.stringValue }) == ["one", "two", "four", "five"])
        #expect(all.contains { $0["value_base64"]?.stringValue == "/wA=" }, "binary values come back as base64")
        #expect(all.contains { $0["key"]?.stringValue == "k1" && $0["headers"]?["h"]?.stringValue == "v" })
        #expect(all.contains { $0["key_base64"]?.stringValue == "/wE=" })

        let (empty, none) = await Node.call(router, .post, "/v1/queues/work/receive", #"{"wait_ms":30}"#)
        #expect(empty == 200)
        #expect(none?["messages"]?.arrayValue?.isEmpty == true, "everything is in flight")
        let inFlight = await Node.call(router, .get, "/v1/queues/work").1
        #expect(inFlight?["in_flight"]?.uint64Value == 5)
        #expect(inFlight?["depth"]?.uint64Value == 0)

        let receipts = all.compactMap { $0["receipt"]?.stringValue }
        let body = #"{"receipts":[\#(receipts.map { "\"\($0)\"" }.joined(separator: ","))]}"#
        let (acked, summary) = await Node.call(router, .post, "/v1/queues/work/ack", body)
        #expect(acked == 200, "\(String(describing: summary))")
        #expect(summary?["acknowledged"]?.int64Value == 5)
        let (again, repeated) = await Node.call(router, .post, "/v1/queues/work/ack", body)
        #expect(again == 200, "acks are idempotent")
        #expect(repeated?["unknown"]?.int64Value == 5)
        let done = await Node.call(router, .get, "/v1/queues/work").1
        #expect(done?["depth"]?.uint64Value == 0)
        #expect(done?["in_flight"]?.uint64Value == 0)
        #expect(done?["acknowledged"]?.uint64Value == 5)
        await node.stop()
    }

    @Test func badSendsReceivesAndAcks() async throws {
        let (node, router) = try await Self.nodeWithQueue(#"{"name":"q","partitions":1}"#, groups: 1)
        for body in ["nope", #"{}"#, #"{"messages":[]}"#, #"{"messages":{}}"#, #"{"messages":[{"key":"k"}]}"#,
                     #"{"messages":[7]}"#, #"{"messages":[{"value":1}]}"#, #"{"messages":[{"value_base64":"!!"}]}"#,
                     #"{"messages":[{"value":"v","headers":[]}]}"#, #"{"messages":[{"value":"v"}],"producer_id":1}"#] {
            let (status, json) = await Node.call(router, .post, "/v1/queues/q/messages", body)
            #expect(status == 400, "send \(body) → \(status) \(String(describing: json))")
        }
        let many = #"{"messages":[\#(Array(repeating: #"{"value":""}"#, count: 65_537).joined(separator: ","))]}"#
        #expect(await Node.call(router, .post, "/v1/queues/q/messages", many).0 == 413)
        #expect(await Node.call(router, .post, "/v1/queues/missing/messages", #"{"messages":[{"value":"v"}]}"#).0 == 404)

        for body in ["nope", #"{"max_messages":0}"#, #"{"max_messages":"1"}"#, #"{"max_messages":1.5}"#, #"{"wait_ms":-1}"#] {
            #expect(await Node.call(router, .post, "/v1/queues/q/receive", body).0 == 400, "receive \(body)")
        }
        #expect(await Node.call(router, .post, "/v1/queues/missing/receive", "{}").0 == 404)
        #expect(await Node.call(router, .post, "/v1/queues/q/partitions/1/receive", "{}").0 == 404)
        #expect(await Node.call(router, .post, "/v1/queues/q/receive").0 == 200, "an empty body takes the defaults")

        let tooMany = #"{"receipts":[\#(Array(repeating: "\"1-0-0-1-0000000000000001\"", count: 1_001).joined(separator: ","))]}"#
        for body in ["nope", #"{}"#, #"{"receipts":[]}"#, #"{"receipts":"x"}"#, #"{"receipts":[1]}"#, #"{"receipts":["garbage"]}"#,
                     #"{"receipts":["1-5-0-1-0000000000000001"]}"#, #"{"receipts":["2-0-0-1-0000000000000001"]}"#, tooMany] {
            #expect(await Node.call(router, .post, "/v1/queues/q/ack", body).0 == 400, "ack \(body.prefix(60))")
        }
        #expect(await Node.call(router, .post, "/v1/queues/missing/ack", #"{"receipts":["1-0-0-1-0000000000000001"]}"#).0 == 404)
        let (forged, summary) = await Node.call(router, .post, "/v1/queues/q/ack", #"{"receipts":["1-0-0-1-0000000000000001"]}"#)
        #expect(forged == 200)
        #expect(summary?["unknown"]?.int64Value == 1, "a receipt nobody was given acks nothing")
        await node.stop()
    }

    /// A claimed message is invisible to other receivers until its deadline. The timeout is long
    /// (10 min), so no machine load can let it expire during the test.
    @Test func claimedMessageIsHiddenUntilItsDeadline() async throws {
        let (node, router) = try await Self.nodeWithQueue(#"{"name":"held","partitions":1,"ack_timeout_ms":600000}"#, groups: 1)
        #expect(await Node.call(router, .post, "/v1/queues/held/messages", #"{"messages":[{"value":"job"}]}"#).0 == 200)
        #expect(Self.receipts(await Node.call(router, .post, "/v1/queues/held/receive", "{}").1).count == 1)
        #expect(Self.receipts(await Node.call(router, .post, "/v1/queues/held/receive", "{}").1).isEmpty, "hidden while claimed")
        await node.stop()
    }

    /// After the deadline the message is delivered again, once, with delivery_count 2. (Whether
    /// it is hidden before the deadline is the test above: with a short timeout, a loaded machine
    /// could pass the deadline between two calls.)
    @Test func unackedMessageIsRedeliveredAfterTheTimeout() async throws {
        let (node, router) = try await Self.nodeWithQueue(#"{"name":"slow","partitions":1,"ack_timeout_ms":1000}"#, groups: 1)
        #expect(await Node.call(router, .post, "/v1/queues/slow/messages", #"{"messages":[{"value":"job"}]}"#).0 == 200)
        let first = await Node.call(router, .post, "/v1/queues/slow/receive", "{}").1
        let firstReceipt = try #require(Self.receipts(first).first)
        // A long-poll is woken by the claim's expiry.
        let second = await Node.call(router, .post, "/v1/queues/slow/receive", #"{"wait_ms":20000}"#).1
        let message = try #require(second?["messages"]?.arrayValue?.first)
        #expect(message["delivery_count"]?.int64Value == 2)
        #expect(message["value"]?.stringValue == "job")
        let secondReceipt = try #require(message["receipt"]?.stringValue)
        #expect(secondReceipt != firstReceipt)
        let stale = await Node.call(router, .post, "/v1/queues/slow/ack", #"{"receipts":["\#(firstReceipt)"]}"#).1
        #expect(stale?["stale"]?.int64Value == 1, "the first receiver's receipt no longer acks")
        let acked = await Node.call(router, .post, "/v1/queues/slow/ack", #"{"receipts":["\#(secondReceipt)"]}"#).1
        #expect(acked?["acknowledged"]?.int64Value == 1)
        await node.stop()
    }

    @Test func longPollIsWokenByASend() async throws {
        let (node, router) = try await Self.nodeWithQueue(#"{"name":"wake","partitions":1}"#, groups: 1)
        let waiting = Task { await Node.call(router, .post, "/v1/queues/wake/receive", #"{"wait_ms":20000}"#) }
        try await Task.sleep(nanoseconds: 200_000_000)
        #expect(await Node.call(router, .post, "/v1/queues/wake/messages", #"{"messages":[{"value":"ping"}]}"#).0 == 200)
        let (status, json) = await waiting.value
        #expect(status == 200)
        #expect(json?["messages"]?.arrayValue?.first?["value"]?.stringValue == "ping")
        await node.stop()
    }

    @Test func exhaustedMessageMovesToTheDeadLetterQueue() async throws {
        let (node, router) = try await Self.nodeWithQueue(
            #"{"name":"risky","partitions":1,"ack_timeout_ms":100,"max_deliveries":2}"#, groups: 2)
        #expect(await Node.call(router, .post, "/v1/queues/risky/messages", #"{"messages":[{"key":"k","value":"poison","headers":{"a":"b"}}]}"#).0 == 200)
        #expect(Self.receipts(await Node.call(router, .post, "/v1/queues/risky/receive", "{}").1).count == 1)
        let second = await Node.call(router, .post, "/v1/queues/risky/receive", #"{"wait_ms":5000}"#).1
        #expect(second?["messages"]?.arrayValue?.first?["delivery_count"]?.int64Value == 2)
        // Out of deliveries: once the second claim expires, a receive moves it (and gets nothing).
        var moved = false
        for _ in 0..<100 where !moved {
            let got = await Node.call(router, .post, "/v1/queues/risky/receive", #"{"wait_ms":50}"#).1
            #expect(Self.receipts(got).isEmpty, "never a third delivery")
            moved = await Node.call(router, .get, "/v1/queues/risky").1?["dead_lettered"]?.uint64Value == 1
        }
        #expect(moved)
        let stats = await Node.call(router, .get, "/v1/queues/risky").1
        #expect(stats?["depth"]?.uint64Value == 0)
        let dead = await Node.call(router, .post, "/v1/queues/risky.dead-letter/receive", #"{"wait_ms":2000}"#).1
        let copy = try #require(dead?["messages"]?.arrayValue?.first)
        #expect(copy["value"]?.stringValue == "poison")
        #expect(copy["key"]?.stringValue == "k")
        #expect(copy["headers"]?["a"]?.stringValue == "b")
        #expect(copy["headers"]?["x-mom-source-queue"]?.stringValue == "risky")
        #expect(copy["headers"]?["x-mom-delivery-count"]?.stringValue == "2")
        #expect(copy["delivery_count"]?.int64Value == 1)
        await node.stop()
    }
}
