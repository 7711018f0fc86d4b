import Foundation
import HTTPServer
import Testing

/// Exchanges and subscriptions on a real 3-node cluster: publish through node 2 to partitions
/// led elsewhere, a subscription cursor that survives kill -9 of a partition leader, and
/// idempotent publish retries answered from dedup state the new leader rebuilt from the log.
extension ClusterTests {
    /// Sends until the answer is not a 503 (or a transport error), rotating over `nodes`,
    /// for at most `timeoutMilliseconds`; returns the first other answer.
    static func retrying(
        _ method: HTTPMethod, _ target: String, json: JSONValue? = nil, via nodes: [ClusterNode], timeoutMilliseconds: Int = 30_000
    ) async throws -> Reply {
        let deadline = ContinuousClock.now + .milliseconds(timeoutMilliseconds)
        var attempt = 0
        var last = ""
        while true {
            let node = nodes[attempt % nodes.count]
            attempt += 1
            do {
                let reply = try await node.client.send(method, target, json: json)
                if reply.status != 503 { return reply }
                last = "node \(node.id): 503 \(reply.text)"
            } catch {
                last = "node \(node.id): \(error)"
            }
            if ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError("\(method.rawValue) \(target) kept failing for \(timeoutMilliseconds) ms; last: \(last)")
    }

    static func json(_ text: String) -> JSONValue { try! JSONValue(parsing: text) }

    /// Waits (bounded) until `node` answers 200 for `path`: the catalog reaches each node by
    /// applying `__meta`, so what one node created another serves a moment later.
    static func waitUntilVisible(_ path: String, on node: ClusterNode) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        var last = ""
        while ContinuousClock.now < deadline {
            let reply = try await retrying(.get, path, via: [node])
            if reply.status == 200 { return }
            last = "\(reply.status) \(reply.text)"
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError("node \(node.id) did not serve \(path) within 10 s; last: \(last)")
    }

    static func publishBody(sequence: Int, producerID: Int64, keys: [String]) -> JSONValue {
        .object([
            ("producer_id", .integer(producerID)), ("sequence", .integer(Int64(sequence))),
            ("messages", .array(keys.enumerated().map { index, key in
                .object([("routing_key", .string(key)), ("value", .string("seq-\(sequence)-\(index)-\(key)"))])
            })),
        ])
    }

    /// Polls through `nodes` until `count` records came back (bounded), then returns them with
    /// the `next_offsets` of the last poll.
    static func pollAll(_ target: String, count: Int, via nodes: [ClusterNode]) async throws -> (values: [String], nextOffsets: [Int: UInt64]) {
        var values: [String] = []
        var next: [Int: UInt64] = [:]
        let deadline = ContinuousClock.now + .seconds(30)
        while values.count < count && ContinuousClock.now < deadline {
            let reply = try await retrying(.get, target + "/records?max_records=1000&wait_ms=500", via: nodes)
            #expect(reply.status == 200, "\(reply.text)")
            values = reply.json?["records"]?.arrayValue?.compactMap { $0["value"]?.stringValue } ?? []
            for entry in reply.json?["next_offsets"]?.arrayValue ?? [] {
                if let partition = entry["partition"]?.int64Value, let offset = entry["offset"]?.uint64Value { next[Int(partition)] = offset }
            }
        }
        return (values, next)
    }

    @Test func publishThroughAFollowerAndSubscriptionCursorSurvivesLeaderKill() async throws {
        try await TestCluster.run { cluster in
            let nodes = cluster.nodes
            try await Admin.createTopic("orders", partitions: 3, via: cluster.node(1))
            try await Admin.createTopic("audit", partitions: 1, via: cluster.node(3))
            let leaders = try await Admin.waitForLeaders("orders", partitions: 3, askingNode: cluster.node(2))
            _ = try await Admin.waitForLeaders("audit", partitions: 1, askingNode: cluster.node(2))
            #expect(try await Self.retrying(.post, "/v1/exchanges", json: Self.json(#"{"name":"events","type":"topic"}"#), via: nodes).status == 201)
            for (destination, key) in [("orders", "order.#"), ("audit", "#.deleted")] {
                let body = JSONValue.object([("destination", .string(destination)), ("destination_type", .string("topic")), ("binding_key", .string(key))])
                #expect(try await Self.retrying(.post, "/v1/exchanges/events/bindings", json: body, via: [cluster.node(3)]).status == 201)
            }

            // The catalog reaches each node by applying `__meta`: a binding made through node 3
            // is routable on node 2 once node 2 has applied it (eventually, like Kafka metadata).
            // Wait for that before asserting routes through node 2 (bounded).
            var bindingsOnNode2 = 0
            for _ in 0..<100 where bindingsOnNode2 < 2 {
                let reply = try await Self.retrying(.get, "/v1/exchanges/events/bindings", via: [cluster.node(2)])
                bindingsOnNode2 = reply.json?["bindings"]?.arrayValue?.count ?? 0
                if bindingsOnNode2 < 2 { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(bindingsOnNode2 == 2, "node 2 applied both bindings")

            // Publish through node 2 only: copies land on partitions led by nodes 1 and 3 too.
            let producerID = Int64.random(in: 1...Int64.max)
            let keys = ["order.eu.created", "user.deleted", "nothing.here", "order.deleted"]
            var answers: [Int: JSONValue] = [:]
            for sequence in 0..<10 {
                let reply = try await Self.retrying(.post, "/v1/exchanges/events/publish",
                                                    json: Self.publishBody(sequence: sequence, producerID: producerID, keys: keys), via: [cluster.node(2)])
                #expect(reply.status == 200, "\(reply.text)")
                answers[sequence] = reply.json
                let routed = reply.json?["results"]?.arrayValue?.map { $0["routed"]?.arrayValue?.compactMap { $0["destination"]?.stringValue } ?? [] }
                #expect(routed == [["orders"], ["audit"], [], ["orders", "audit"]], "sequence \(sequence)")
            }
            let orderCopies = answers.values.flatMap { $0["results"]?.arrayValue ?? [] }.flatMap { $0["routed"]?.arrayValue ?? [] }
                .filter { $0["destination"]?.stringValue == "orders" }
            let partitionsHit = Set(orderCopies.compactMap { $0["partition"]?.int64Value.map(Int.init) })
            #expect(partitionsHit.contains { leaders[$0] != 2 }, "some copies went to partitions led elsewhere (leaders \(leaders), hit \(partitionsHit))")
            // Every copy is readable from node 3 at the offset the answer gave.
            for copy in orderCopies {
                let partition = try #require(copy["partition"]?.int64Value)
                let offset = try #require(copy["offset"]?.uint64Value)
                let reply = try await Self.retrying(.get, "/v1/topics/orders/partitions/\(partition)/records?offset=\(offset)&max_records=1&wait_ms=1000", via: [cluster.node(3)])
                #expect(reply.json?["records"]?.arrayValue?.first?["offset"]?.uint64Value == offset)
                #expect(reply.json?["records"]?.arrayValue?.first?["value"]?.stringValue?.hasPrefix("seq-") == true)
            }

            // A subscription reads all 20 order copies, commits them, and shows no lag.
            #expect(try await Self.retrying(.post, "/v1/topics/orders/subscriptions", json: Self.json(#"{"name":"billing","start":"earliest"}"#), via: [cluster.node(3)]).status == 201)
            let path = "/v1/topics/orders/subscriptions/billing"
            // Created through node 3; node 1 serves it once it has applied that `__meta` entry.
            try await Self.waitUntilVisible(path, on: cluster.node(1))
            let first = try await Self.pollAll(path, count: 20, via: [cluster.node(1)])
            #expect(first.values.count == 20)
            let commit = JSONValue.object([("offsets", .array(first.nextOffsets.sorted { $0.key < $1.key }.map {
                .object([("partition", .integer(Int64($0.key))), ("offset", .integer(Int64($0.value)))])
            }))])
            #expect(try await Self.retrying(.post, path + "/commit", json: commit, via: [cluster.node(2)]).status == 200)
            let described = try await Self.retrying(.get, path, via: [cluster.node(3)])
            let committedBefore = described.json?["partitions"]?.arrayValue?.compactMap { $0["committed_offset"]?.uint64Value } ?? []
            #expect(described.json?["partitions"]?.arrayValue?.compactMap { $0["lag"]?.uint64Value } == [0, 0, 0], "\(described.text)")

            // kill -9 the leader of partition 0; the cursor and the dedup state live in its log.
            let victim = leaders[0]
            await cluster.kill(victim)
            let survivors = nodes.filter { $0.id != victim }
            let afterKill = try await Self.retrying(.get, path, via: survivors)
            #expect(afterKill.status == 200, "\(afterKill.text)")
            let committedAfter = afterKill.json?["partitions"]?.arrayValue?.compactMap { $0["committed_offset"]?.uint64Value } ?? []
            #expect(committedAfter == committedBefore, "the committed cursors survive the leader's death")
            #expect(await Admin.leader(of: "orders", partition: 0, askingNode: survivors[0]) != victim)
            let nothing = try await Self.retrying(.get, path + "/records?wait_ms=200", via: survivors)
            #expect(nothing.json?["records"]?.arrayValue?.isEmpty == true, "nothing before the cursor is read again: \(nothing.text)")

            // Retried publishes (same producer id and sequence) answer the original offsets,
            // from dedup state the new leader rebuilt from the log, and write nothing. (Each
            // partition remembers a producer's last 5 batches, so the last 4 are retried.)
            for sequence in 6..<10 {
                let reply = try await Self.retrying(.post, "/v1/exchanges/events/publish",
                                                    json: Self.publishBody(sequence: sequence, producerID: producerID, keys: keys), via: survivors)
                #expect(reply.status == 200 && reply.json == answers[sequence], "retry of sequence \(sequence): \(reply.text)")
            }
            #expect(try await Self.retrying(.get, path + "/records?wait_ms=200", via: survivors).json?["records"]?.arrayValue?.isEmpty == true,
                    "the retries wrote nothing new")

            // New messages after the failover are read from the cursor on.
            let fresh = try await Self.retrying(.post, "/v1/exchanges/events/publish",
                                                json: Self.publishBody(sequence: 10, producerID: producerID, keys: ["order.new"]), via: survivors)
            #expect(fresh.status == 200)
            let after = try await Self.pollAll(path, count: 1, via: survivors)
            #expect(after.values == ["seq-10-0-order.new"])
        }
    }
}
