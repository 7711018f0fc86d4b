import Foundation
import MOMCore
import Testing
@testable import MOMClient

/// The client's requests match docs/openapi.yaml: method, path, JSON fields, Authorization.
@Suite struct RequestShapeTests {
    @Test func loginThenCreateTopicSendsBearerToken() async throws {
        let server = try FakeServer()
        defer { server.stop() }
        server.script("POST /v1/topics", [.json(201, "")])
        let client = try makeClient([server.address])
        try await client.createTopic("orders", partitions: 2, replicationFactor: 1, retentionMilliseconds: 1000)

        let login = try #require(server.requests("POST /v1/auth/token").first)
        #expect(login.headers["authorization"] == nil)
        let credentials = try login.json()
        #expect(credentials["username"] as? String == "alice")
        #expect(credentials["password"] as? String == "pw")

        let create = try #require(server.requests("POST /v1/topics").first)
        #expect(create.headers["authorization"] == "Bearer token-1")
        #expect(create.headers["content-type"] == "application/json")
        let body = try create.json()
        #expect(body["name"] as? String == "orders")
        #expect(body["partitions"] as? Int == 2)
        #expect(body["replication_factor"] as? Int == 1)
        #expect(body["retention_ms"] as? Int == 1000)
        #expect(body["retention_bytes"] == nil)
    }

    @Test func publishBatchWithProducerAndBinaryValue() async throws {
        let server = try FakeServer()
        defer { server.stop() }
        server.script("POST /v1/topics/orders/records",
                      [.json(200, #"{"offsets":[{"partition":1,"offset":41},{"partition":2,"offset":7}]}"#)])
        let client = try makeClient([server.address])
        let binary: [UInt8] = [0xff, 0x00, 0xfe]
        let positions = try await client.publish(
            topic: "orders",
            records: [OutgoingRecord(key: "k1", value: "hello", headers: ["trace_id": "t1"]),
                      OutgoingRecord(key: nil, value: binary, partition: 2)],
            producer: ProducerSequence(producerID: 42, sequence: 7))
        #expect(positions == [RecordPosition(partition: 1, offset: Offset(41)), RecordPosition(partition: 2, offset: Offset(7))])

        let body = try #require(server.requests("POST /v1/topics/orders/records").first).json()
        #expect(body["producer_id"] as? Int == 42)
        #expect(body["sequence"] as? Int == 7)
        let records = try #require(body["records"] as? [[String: Any]])
        #expect(records.count == 2)
        #expect(records[0]["key"] as? String == "k1")
        #expect(records[0]["value"] as? String == "hello")
        #expect((records[0]["headers"] as? [String: String]) == ["trace_id": "t1"])
        #expect(records[0]["partition"] == nil)
        #expect(records[1]["value"] == nil)
        #expect(records[1]["value_base64"] as? String == "/wD+")
        #expect(records[1]["partition"] as? Int == 2)
    }

    @Test func fetchSendsQueryAndDecodesBase64() async throws {
        let server = try FakeServer()
        defer { server.stop() }
        server.script("GET /v1/topics/orders/partitions/3/records", [.json(200, """
            {"records":[{"offset":10,"timestamp_ms":1700000000000,"key":"k","value":"v","headers":{"a_b":"c"}},
                        {"offset":12,"timestamp_ms":1700000000001,"key":null,"value_base64":"AAEC","headers":{}}],
             "next_offset":13,"high_watermark":20,"log_start_offset":5}
            """)])
        let client = try makeClient([server.address])
        let page = try await client.fetch(topic: "orders", partition: 3, offset: Offset(10), maxRecords: 2, maxBytes: 4096, waitMilliseconds: 250)
        let request = try #require(server.requests("GET /v1/topics/orders/partitions/3/records").first)
        #expect(request.query == "offset=10&max_records=2&max_bytes=4096&wait_ms=250")
        #expect(request.body.isEmpty)
        #expect(page.records.count == 2)
        #expect(page.records[0].keyText == "k")
        #expect(page.records[0].valueText == "v")
        #expect(page.records[0].headers == ["a_b": "c"])
        #expect(page.records[1].key == nil)
        #expect(page.records[1].value == [0, 1, 2])
        #expect(page.records[1].offset == Offset(12))
        #expect(page.nextOffset == Offset(13))
        #expect(page.highWatermark == Offset(20))
        #expect(page.logStartOffset == Offset(5))
    }

    @Test func subscriptionCalls() async throws {
        let server = try FakeServer()
        defer { server.stop() }
        server.script("POST /v1/topics/t/subscriptions", [.json(201, "")])
        server.script("GET /v1/topics/t/subscriptions/s/records",
                      [.json(200, #"{"records":[{"partition":1,"offset":4,"timestamp_ms":1,"value":"x","headers":{}}]}"#)])
        server.script("POST /v1/topics/t/subscriptions/s/commit", [.json(200, "{}")])
        server.script("GET /v1/topics/t/subscriptions/s", [.json(200, """
            {"name":"s","topic":"t","partitions":[{"partition":1,"committed_offset":5,"high_watermark":9,"lag":4}]}
            """)])
        let client = try makeClient([server.address])
        try await client.createSubscription(topic: "t", name: "s", start: .earliest)
        let records = try await client.poll(topic: "t", subscription: "s", maxRecords: 5)
        #expect(records.first?.partition == 1)
        try await client.commit(topic: "t", subscription: "s", positions: [RecordPosition(partition: 1, offset: Offset(5))])
        let info = try await client.subscription(topic: "t", name: "s")
        #expect(info.totalLag == 4)
        #expect(info.partitions.first?.committedOffset == Offset(5))

        let create = try #require(server.requests("POST /v1/topics/t/subscriptions").first).json()
        #expect(create["name"] as? String == "s")
        #expect(create["start"] as? String == "earliest")
        #expect(server.requests("GET /v1/topics/t/subscriptions/s/records").first?.query == "max_records=5")
        let commit = try #require(server.requests("POST /v1/topics/t/subscriptions/s/commit").first).json()
        let offsets = try #require(commit["offsets"] as? [[String: Any]])
        #expect(offsets.first?["partition"] as? Int == 1)
        #expect(offsets.first?["offset"] as? Int == 5)
    }

    @Test func queueCalls() async throws {
        let server = try FakeServer()
        defer { server.stop() }
        server.script("POST /v1/queues", [.json(201, "")])
        server.script("POST /v1/queues/jobs/messages", [.json(200, #"{"offsets":[{"partition":0,"offset":1}]}"#)])
        server.script("POST /v1/queues/jobs/receive", [.json(200, """
            {"messages":[{"receipt":"r-1","partition":0,"offset":1,"key":null,"value":"job","delivery_count":2}]}
            """)])
        server.script("POST /v1/queues/jobs/ack", [.json(200, "{}")])
        server.script("GET /v1/queues/jobs", [.json(200, #"{"name":"jobs","depth":3,"in_flight":1,"dead_lettered":0}"#)])
        let client = try makeClient([server.address])
        try await client.createQueue("jobs", partitions: 1, replicationFactor: 1, maxDeliveries: 5)
        try await client.send(queue: "jobs", messages: [OutgoingRecord(value: "job", partition: 9)])
        let messages = try await client.receive(queue: "jobs", maxMessages: 3, waitMilliseconds: 10)
        #expect(messages.first?.receipt == "r-1")
        #expect(messages.first?.deliveryCount == 2)
        #expect(messages.first?.valueText == "job")
        try await client.ack(queue: "jobs", receipts: ["r-1"])
        let stats = try await client.queueStats("jobs")
        #expect(stats.depth == 3 && stats.inFlight == 1)

        let create = try #require(server.requests("POST /v1/queues").first).json()
        #expect(create["ack_timeout_ms"] as? Int == 30_000)
        #expect(create["max_deliveries"] as? Int == 5)
        let sent = try #require(server.requests("POST /v1/queues/jobs/messages").first).json()
        let first = try #require((sent["messages"] as? [[String: Any]])?.first)
        #expect(first["value"] as? String == "job")
        #expect(first["partition"] == nil)
        let receive = try #require(server.requests("POST /v1/queues/jobs/receive").first).json()
        #expect(receive["max_messages"] as? Int == 3)
        #expect(receive["wait_ms"] as? Int == 10)
        let ack = try #require(server.requests("POST /v1/queues/jobs/ack").first).json()
        #expect(ack["receipts"] as? [String] == ["r-1"])
    }

    @Test func exchangeCalls() async throws {
        let server = try FakeServer()
        defer { server.stop() }
        server.script("POST /v1/exchanges", [.json(201, "")])
        server.script("POST /v1/exchanges/events/bindings",
                      [.json(201, #"{"id":"b1","destination":"orders","destination_type":"topic","binding_key":"order.*"}"#)])
        server.script("GET /v1/exchanges/events/bindings",
                      [.json(200, #"{"bindings":[{"id":"b1","destination":"orders","destination_type":"topic","binding_key":"order.*"}]}"#)])
        server.script("POST /v1/exchanges/events/publish", [.json(200, """
            {"results":[{"routed":[{"destination":"orders","partition":0,"offset":3}]},{"routed":[]}]}
            """)])
        let client = try makeClient([server.address])
        try await client.createExchange("events", type: .topic)
        let binding = try await client.bind(
            exchange: "events", to: Binding(destination: "orders", destinationType: .topic, bindingKey: "order.*"))
        #expect(binding.id == "b1")
        #expect(try await client.bindings(exchange: "events") == [binding])
        let routed = try await client.publish(exchange: "events", messages: [
            ExchangeMessage(routingKey: "order.eu", value: "a"), ExchangeMessage(routingKey: "misc", value: "b"),
        ])
        #expect(routed.count == 2)
        #expect(routed[0].first?.destination == "orders")
        #expect(routed[1].isEmpty)

        let create = try #require(server.requests("POST /v1/exchanges").first).json()
        #expect(create["type"] as? String == "topic")
        let bind = try #require(server.requests("POST /v1/exchanges/events/bindings").first).json()
        #expect(bind["destination_type"] as? String == "topic")
        #expect(bind["binding_key"] as? String == "order.*")
        #expect(bind["id"] == nil)
        let publish = try #require(server.requests("POST /v1/exchanges/events/publish").first).json()
        let messages = try #require(publish["messages"] as? [[String: Any]])
        #expect(messages.first?["routing_key"] as? String == "order.eu")
        #expect(publish["producer_id"] == nil && publish["sequence"] == nil)
    }

    /// An idempotent publish sends producer_id and sequence; the answer's destination_type is read.
    @Test func idempotentExchangePublish() async throws {
        let server = try FakeServer()
        defer { server.stop() }
        server.script("POST /v1/exchanges/events/publish", [.json(200, """
            {"results":[{"routed":[{"destination":"work","destination_type":"queue","partition":1,"offset":7}]}]}
            """)])
        let client = try makeClient([server.address])
        let routed = try await client.publish(exchange: "events", messages: [ExchangeMessage(routingKey: "k", value: "v")],
                                              producer: ProducerSequence(producerID: 9, sequence: 4))
        #expect(routed.first?.first?.destinationType == .queue)
        #expect(routed.first?.first?.offset == Offset(7))
        let publish = try #require(server.requests("POST /v1/exchanges/events/publish").first).json()
        #expect(publish["producer_id"] as? Int == 9)
        #expect(publish["sequence"] as? Int == 4)
    }

    @Test func healthNeedsNoToken() async throws {
        let server = try FakeServer()
        defer { server.stop() }
        server.script("GET /healthz", [.json(200, #"{"status":"ok","node_id":3}"#)])
        let client = try makeClient([server.address])
        let health = try await client.health()
        #expect(health.nodeID == NodeID(3))
        #expect(server.requests("POST /v1/auth/token").isEmpty)
        #expect(server.requests.first?.headers["authorization"] == nil)
    }
}
