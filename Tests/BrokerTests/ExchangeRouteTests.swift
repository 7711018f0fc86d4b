import HTTPServer
import MOMCore
import Raft
import Replication
import SystemIO
import Testing
@testable import Broker

/// The exchange, binding and publish routes on a standalone node, in process.
@Suite struct ExchangeRouteTests {
    typealias Node = SingleNodeTests

    /// Creates a queue the way the queue routes will: a catalog command through `__meta`.
    static func createQueue(_ node: BrokerNode, _ name: String, partitions: Int) async -> Bool {
        let command = CatalogCommand.createQueue(CreateQueue(
            name: name, partitions: partitions, replicationFactor: 1, ackTimeoutMilliseconds: 30_000, maxDeliveries: nil,
            replicas: Array(repeating: [node.config.nodeID], count: partitions), deadLetterReplicas: []))
        node.host.propose(MetaStateMachine.group, entries: [command.encoded()]) { _ in }
        return await Node.waitUntil { node.meta.current.queue(name) != nil }
    }

    /// The data record at `offset` of a hosted group's committed log.
    static func record(_ node: BrokerNode, group: GroupID, offset: UInt64) async -> DataRecord? {
        let slot = ValueSlot<DataRecord>()
        node.host.readCommitted(group, from: LogIndex(offset + 1), maxEntries: 1, maxBytes: 1 << 20) { result in
            if case .success(let page) = result, let entry = page.entries.first,
               case .data(let record)? = try? PartitionRecord.decode(entry.data) {
                slot.put(record)
            } else {
                slot.put(nil)
            }
        }
        return await slot.take()
    }

    static func setUp(topics: [(String, Int)], queues: [(String, Int)] = []) async throws -> (BrokerNode, Router) {
        let (node, router) = try await Node.startNode()
        #expect(await Node.waitForMeta(node))
        var groups = 1
        for (name, partitions) in topics {
            #expect(await Node.call(router, .post, "/v1/topics", #"{"name":"\#(name)","partitions":\#(partitions)}"#).0 == 201)
            groups += partitions
        }
        for (name, partitions) in queues {
            #expect(await Self.createQueue(node, name, partitions: partitions))
            groups += partitions
        }
        #expect(await Node.waitForLeaders(node, count: groups))
        return (node, router)
    }

    @Test func exchangeLifecycleAndErrors() async throws {
        let (node, router) = try await Self.setUp(topics: [])
        let (created, body) = await Node.call(router, .post, "/v1/exchanges", #"{"name":"events","type":"topic"}"#)
        #expect(created == 201)
        #expect(body?["name"]?.stringValue == "events" && body?["type"]?.stringValue == "topic")
        let duplicate = await Node.call(router, .post, "/v1/exchanges", #"{"name":"events","type":"fanout"}"#)
        #expect(duplicate.0 == 409 && duplicate.1?["error"]?["code"]?.stringValue == "already_exists")
        #expect(await Node.call(router, .post, "/v1/exchanges", #"{"name":"e2","type":"headers"}"#).0 == 400)
        #expect(await Node.call(router, .post, "/v1/exchanges", #"{"name":"bad/name","type":"direct"}"#).0 == 400)
        #expect(await Node.call(router, .post, "/v1/exchanges", #"{"type":"direct"}"#).0 == 400)
        #expect(await Node.call(router, .post, "/v1/exchanges", "not json").0 == 400)
        #expect(await Node.call(router, .post, "/v1/exchanges", nil).0 == 400)
        #expect(await Node.call(router, .post, "/v1/exchanges", #"{"name":"fan","type":"fanout"}"#).0 == 201)
        let (listed, list) = await Node.call(router, .get, "/v1/exchanges")
        #expect(listed == 200)
        #expect(list?["exchanges"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["events", "fan"])
        #expect(list?["exchanges"]?.arrayValue?.compactMap { $0["type"]?.stringValue } == ["topic", "fanout"])
        #expect(await Node.call(router, .delete, "/v1/exchanges/fan").0 == 204)
        #expect(await Node.call(router, .delete, "/v1/exchanges/fan").0 == 404)
        #expect(await Node.call(router, .get, "/v1/exchanges/fan/bindings").0 == 404)
        #expect(await Node.call(router, .get, "/v1/exchanges").1?["exchanges"]?.arrayValue?.count == 1)
        await node.stop()
    }

    @Test func bindingLifecycleAndErrors() async throws {
        let (node, router) = try await Self.setUp(topics: [("orders", 1)], queues: [("work", 1)])
        #expect(await Node.call(router, .post, "/v1/exchanges", #"{"name":"x","type":"direct"}"#).0 == 201)
        let (added, binding) = await Node.call(router, .post, "/v1/exchanges/x/bindings",
                                               #"{"destination":"orders","destination_type":"topic","binding_key":"k"}"#)
        #expect(added == 201)
        let id = try #require(binding?["id"]?.stringValue)
        #expect(binding?["destination_type"]?.stringValue == "topic" && binding?["binding_key"]?.stringValue == "k")
        #expect(await Node.call(router, .post, "/v1/exchanges/x/bindings", #"{"destination":"orders","destination_type":"topic","binding_key":"k"}"#).0 == 409)
        #expect(await Node.call(router, .post, "/v1/exchanges/x/bindings", #"{"destination":"work","destination_type":"queue"}"#).0 == 201,
                "binding_key defaults to the empty key")
        #expect(await Node.call(router, .post, "/v1/exchanges/x/bindings", #"{"destination":"nope","destination_type":"topic"}"#).0 == 404)
        #expect(await Node.call(router, .post, "/v1/exchanges/x/bindings", #"{"destination":"work","destination_type":"topic"}"#).0 == 404,
                "a queue is not a topic")
        #expect(await Node.call(router, .post, "/v1/exchanges/x/bindings", #"{"destination":"orders","destination_type":"stream"}"#).0 == 400)
        #expect(await Node.call(router, .post, "/v1/exchanges/x/bindings", #"{"destination_type":"topic"}"#).0 == 400)
        let longKey = String(repeating: "k", count: 256)
        #expect(await Node.call(router, .post, "/v1/exchanges/x/bindings", #"{"destination":"orders","destination_type":"topic","binding_key":"\#(longKey)"}"#).0 == 400)
        #expect(await Node.call(router, .post, "/v1/exchanges/missing/bindings", #"{"destination":"orders","destination_type":"topic"}"#).0 == 404)
        let list = await Node.call(router, .get, "/v1/exchanges/x/bindings").1?["bindings"]?.arrayValue
        #expect(list?.compactMap { $0["destination"]?.stringValue } == ["orders", "work"])
        #expect(await Node.call(router, .delete, "/v1/exchanges/x/bindings/\(id)").0 == 204)
        #expect(await Node.call(router, .delete, "/v1/exchanges/x/bindings/\(id)").0 == 404)
        #expect(await Node.call(router, .delete, "/v1/exchanges/x/bindings/abc").0 == 404)
        #expect(await Node.call(router, .delete, "/v1/exchanges/missing/bindings/1").0 == 404)
        #expect(await Node.call(router, .get, "/v1/exchanges/x/bindings").1?["bindings"]?.arrayValue?.count == 1)
        await node.stop()
    }

    /// A topic exchange routes each message to every matching topic and queue, reports where
    /// each copy landed in request order, and reports an unroutable message as `routed: []`.
    @Test func publishRoutesToTopicsAndQueuesInRequestOrder() async throws {
        let (node, router) = try await Self.setUp(topics: [("orders", 2), ("audit", 1)], queues: [("work", 2)])
        #expect(await Node.call(router, .post, "/v1/exchanges", #"{"name":"events","type":"topic"}"#).0 == 201)
        for (destination, type, key) in [("orders", "topic", "order.#"), ("work", "queue", "order.*.created"), ("audit", "topic", "#.deleted")] {
            #expect(await Node.call(router, .post, "/v1/exchanges/events/bindings",
                                    #"{"destination":"\#(destination)","destination_type":"\#(type)","binding_key":"\#(key)"}"#).0 == 201)
        }
        let (status, body) = await Node.call(router, .post, "/v1/exchanges/events/publish", #"""
            {"messages":[{"routing_key":"order.eu.created","value":"m0","key":"k","headers":{"h":"v"}},
                         {"routing_key":"user.signed-up","value":"m1"},
                         {"routing_key":"order.deleted","value_base64":"bTI="}]}
            """#)
        #expect(status == 200, "\(String(describing: body))")
        let results = try #require(body?["results"]?.arrayValue)
        #expect(results.count == 3)
        let first = try #require(results[0]["routed"]?.arrayValue)
        #expect(first.compactMap { $0["destination"]?.stringValue } == ["orders", "work"])
        #expect(first.compactMap { $0["destination_type"]?.stringValue } == ["topic", "queue"])
        #expect(results[1]["routed"]?.arrayValue?.isEmpty == true, "unroutable: reported, not dropped silently")
        let third = try #require(results[2]["routed"]?.arrayValue)
        #expect(third.compactMap { $0["destination"]?.stringValue } == ["orders", "audit"])

        // Every copy is readable where the answer says it is.
        let catalog = node.meta.current
        for (routed, value) in [(first, "m0"), (third, "m2")] {
            for copy in routed {
                let partition = try #require(copy["partition"]?.int64Value)
                let offset = try #require(copy["offset"]?.uint64Value)
                let name = try #require(copy["destination"]?.stringValue)
                let partitions = copy["destination_type"]?.stringValue == "queue" ? catalog.queue(name)!.partitions : catalog.topic(name)!.partitions
                let record = await Self.record(node, group: partitions[Int(partition)].group, offset: offset)
                #expect(record.map { String(decoding: $0.value, as: UTF8.self) } == value, "\(name)/\(partition)@\(offset)")
                if value == "m0" { #expect(record?.headers == [Header("h", Array("v".utf8))] && record?.key == Array("k".utf8)) }
            }
        }
        await node.stop()
    }

    @Test func directAndFanoutPublish() async throws {
        let (node, router) = try await Self.setUp(topics: [("a", 1), ("b", 1)])
        #expect(await Node.call(router, .post, "/v1/exchanges", #"{"name":"d","type":"direct"}"#).0 == 201)
        #expect(await Node.call(router, .post, "/v1/exchanges", #"{"name":"f","type":"fanout"}"#).0 == 201)
        for (exchange, destination, key) in [("d", "a", "red"), ("d", "b", "blue"), ("f", "a", "ignored"), ("f", "b", "")] {
            #expect(await Node.call(router, .post, "/v1/exchanges/\(exchange)/bindings",
                                    #"{"destination":"\#(destination)","destination_type":"topic","binding_key":"\#(key)"}"#).0 == 201)
        }
        let direct = await Node.call(router, .post, "/v1/exchanges/d/publish",
                                     #"{"messages":[{"routing_key":"blue","value":"1"},{"routing_key":"red","value":"2"},{"routing_key":"green","value":"3"}]}"#).1
        #expect(direct?["results"]?.arrayValue?.map { $0["routed"]?.arrayValue?.compactMap { $0["destination"]?.stringValue } ?? [] } == [["b"], ["a"], []])
        let fanout = await Node.call(router, .post, "/v1/exchanges/f/publish", #"{"messages":[{"routing_key":"","value":"4"}]}"#).1
        #expect(fanout?["results"]?.arrayValue?.first?["routed"]?.arrayValue?.compactMap { $0["destination"]?.stringValue } == ["a", "b"])
        // Offsets follow the log of each destination: "a" got "2" then "4".
        let page = await Node.call(router, .get, "/v1/topics/a/partitions/0/records?offset=0").1
        #expect(page?["records"]?.arrayValue?.compactMap { $0["value"]?.stringValue } == ["2", "4"])
        await node.stop()
    }

    @Test func publishRejectsBadInput() async throws {
        let (node, router) = try await Self.setUp(topics: [])
        #expect(await Node.call(router, .post, "/v1/exchanges", #"{"name":"x","type":"fanout"}"#).0 == 201)
        #expect(await Node.call(router, .post, "/v1/exchanges/missing/publish", #"{"messages":[{"routing_key":"a","value":"v"}]}"#).0 == 404)
        for bad in [#"{"messages":[]}"#, #"{"messages":"x"}"#, #"{}"#, #"{"messages":[{"value":"v"}]}"#,
                    #"{"messages":[{"routing_key":"a"}]}"#, #"{"messages":[{"routing_key":"a","value_base64":"!!"}]}"#,
                    #"{"messages":[{"routing_key":1,"value":"v"}]}"#, #"{"messages":[7]}"#,
                    #"{"producer_id":1,"messages":[{"routing_key":"a","value":"v"}]}"#,
                    #"{"messages":[{"routing_key":"a","value":"v","headers":{"h":1}}]}"#] {
            let (status, body) = await Node.call(router, .post, "/v1/exchanges/x/publish", bad)
            #expect(status == 400, "\(bad) → \(status)")
            #expect(body?["error"]?["code"]?.stringValue != nil, "a JSON error body for \(bad)")
        }
        let longKey = String(repeating: "a", count: 256)
        #expect(await Node.call(router, .post, "/v1/exchanges/x/publish", #"{"messages":[{"routing_key":"\#(longKey)","value":"v"}]}"#).0 == 400)
        // No bindings: routable to nothing, still a 200 with one empty result per message.
        let empty = await Node.call(router, .post, "/v1/exchanges/x/publish", #"{"messages":[{"routing_key":"a","value":"v"},{"routing_key":"b","value":"w"}]}"#)
        #expect(empty.0 == 200)
        #expect(empty.1?["results"]?.arrayValue?.map { $0["routed"]?.arrayValue?.count } == [0, 0])
        await node.stop()
    }

    /// A retried publish with the same (producer_id, sequence) returns the original offsets and
    /// writes nothing, keyless messages included (they land on the same partitions again).
    @Test func idempotentPublishRetry() async throws {
        let (node, router) = try await Self.setUp(topics: [("t", 3)], queues: [("q", 3)])
        #expect(await Node.call(router, .post, "/v1/exchanges", #"{"name":"f","type":"fanout"}"#).0 == 201)
        #expect(await Node.call(router, .post, "/v1/exchanges/f/bindings", #"{"destination":"t","destination_type":"topic"}"#).0 == 201)
        #expect(await Node.call(router, .post, "/v1/exchanges/f/bindings", #"{"destination":"q","destination_type":"queue"}"#).0 == 201)
        let body = #"{"producer_id":42,"sequence":7,"messages":[{"routing_key":"","value":"a"},{"routing_key":"","value":"b"},{"routing_key":"","value":"c"},{"routing_key":"","value":"d"}]}"#
        let first = await Node.call(router, .post, "/v1/exchanges/f/publish", body)
        let second = await Node.call(router, .post, "/v1/exchanges/f/publish", body)
        #expect(first.0 == 200 && second.0 == 200)
        #expect(first.1 == second.1, "the retry answers the original offsets")
        var total = 0
        for partition in 0..<3 {
            total += await Node.call(router, .get, "/v1/topics/t/partitions/\(partition)/records?offset=0").1?["records"]?.arrayValue?.count ?? -100
        }
        #expect(total == 4, "the retry wrote nothing new to the topic")
        // A new sequence writes again.
        let next = await Node.call(router, .post, "/v1/exchanges/f/publish", body.replacingOccurrences(of: #""sequence":7"#, with: #""sequence":8"#))
        #expect(next.0 == 200 && next.1 != first.1)
        await node.stop()
    }

    /// The same for topic produce: keyless records of an idempotent producer on a 3-partition
    /// topic land on the same partitions when retried, so the retry finds its dedup state.
    @Test func idempotentKeylessProduceRetry() async throws {
        let (node, router) = try await Self.setUp(topics: [("t", 3)])
        let body = #"{"producer_id":5,"sequence":1,"records":[{"value":"a"},{"value":"b"},{"value":"c"},{"value":"d"},{"value":"e"}]}"#
        let first = await Node.call(router, .post, "/v1/topics/t/records", body)
        let second = await Node.call(router, .post, "/v1/topics/t/records", body)
        #expect(first.0 == 200)
        #expect(first.1 == second.1)
        var total = 0
        for partition in 0..<3 {
            total += await Node.call(router, .get, "/v1/topics/t/partitions/\(partition)/records?offset=0").1?["records"]?.arrayValue?.count ?? -100
        }
        #expect(total == 5)
        await node.stop()
    }
}

/// One value handed from a callback thread to an awaiting test.
final class ValueSlot<Value: Sendable>: @unchecked Sendable {
    private let lock = ConditionMutex()
    private var value: Value??

    func put(_ newValue: Value?) { lock.withLock { value = .some(newValue) } }

    func take(timeoutMilliseconds: UInt64 = 30_000) async -> Value? {
        let clock = SystemClock()
        let deadline = clock.monotonicNanoseconds() + timeoutMilliseconds * 1_000_000
        while clock.monotonicNanoseconds() < deadline {
            if let ready = lock.withLock({ value }) { return ready }
            try? await Task.sleep(nanoseconds: 1_000_000)
        }
        return nil
    }
}
