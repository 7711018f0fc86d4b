import Foundation
import HTTPServer
import Testing

/// Queue administration through the REST API, retried while the cluster settles.
enum QueueAdmin {
    static func create(
        _ name: String, partitions: Int, ackTimeoutMilliseconds: Int, maxDeliveries: Int? = nil, via node: ClusterNode,
        timeoutMilliseconds: Int = 20_000
    ) async throws {
        var members: [(String, JSONValue)] = [
            ("name", .string(name)), ("partitions", .integer(Int64(partitions))), ("replication_factor", .integer(3)),
            ("ack_timeout_ms", .integer(Int64(ackTimeoutMilliseconds))),
        ]
        if let maxDeliveries { members.append(("max_deliveries", .integer(Int64(maxDeliveries)))) }
        let deadline = ContinuousClock.now + .milliseconds(timeoutMilliseconds)
        var last = ""
        while true {  // the deadline is checked after each attempt (see TestCluster.waitHealthy)
            if let reply = try? await node.client.send(.post, "/v1/queues", json: .object(members)) {
                if reply.status == 201 || reply.status == 409 { return }
                last = "\(reply.status) \(reply.text)"
            }
            if ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw HarnessError("could not create queue \(name): \(last)")
    }

    /// `GET /v1/queues/{q}` as `node` answers it, or nil.
    static func describe(_ name: String, askingNode node: ClusterNode) async -> JSONValue? {
        guard let reply = try? await node.client.send(.get, "/v1/queues/\(name)"), reply.status == 200 else { return nil }
        return reply.json
    }

    /// Waits (bounded) until `node` knows a leader for every partition; returns them.
    static func waitForLeaders(_ name: String, partitions: Int, askingNode node: ClusterNode, timeoutMilliseconds: Int = 20_000) async throws -> [Int] {
        let deadline = ContinuousClock.now + .milliseconds(timeoutMilliseconds)
        while true {
            let leaders = (await describe(name, askingNode: node))?["partitions"]?.arrayValue?.compactMap { $0["leader"]?.int64Value.map(Int.init) } ?? []
            if leaders.count == partitions { return leaders }
            if ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError("queue \(name): not every partition has a leader after \(timeoutMilliseconds) ms")
    }

    /// Sends `values` in requests of `batch`, rotating over `nodes`; each request is idempotent
    /// (one producer id, a sequence per request) and retried on 503 or a transport error.
    static func send(_ values: [String], to queue: String, batch: Int = 100, via nodes: [ClusterNode], timeoutMilliseconds: Int = 30_000) async throws {
        let producerID = Int64.random(in: 1...Int64.max)
        let deadline = ContinuousClock.now + .milliseconds(timeoutMilliseconds)
        for (sequence, start) in stride(from: 0, to: values.count, by: batch).enumerated() {
            let messages = values[start..<min(values.count, start + batch)].map { JSONValue.object([("value", .string($0))]) }
            let body = JSONValue.object([("messages", .array(messages)), ("producer_id", .integer(producerID)), ("sequence", .integer(Int64(sequence)))])
            var attempt = 0
            while true {
                let node = nodes[(sequence + attempt) % nodes.count]
                let reply = try? await node.client.send(.post, "/v1/queues/\(queue)/messages", json: body)
                if reply?.status == 200 { break }
                if let reply, reply.status != 503 { throw HarnessError("send to \(queue): \(reply.status) \(reply.text)") }
                if ContinuousClock.now >= deadline { throw HarnessError("send to \(queue): no success before the deadline") }
                attempt += 1
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }
}

/// One delivery a receiver got.
struct Delivery: Sendable {
    let value: String
    let deliveryCount: Int
    let partition: Int
    let receipt: String
    let headers: [String: String]
}

/// Every delivery of a test, from all receivers, and which values were acknowledged (the
/// server said `acknowledged` for their receipt).
final class DeliveryLog: @unchecked Sendable {
    private let lock = NSLock()
    private var deliveries: [Delivery] = []
    private var acknowledgedValues: Set<String> = []
    /// Values delivered again after their ack had been confirmed: must stay empty.
    private var deliveredAfterAck: [String] = []

    func record(_ delivery: Delivery) {
        lock.withLock {
            if acknowledgedValues.contains(delivery.value) { deliveredAfterAck.append(delivery.value) }
            deliveries.append(delivery)
        }
    }

    func acknowledged(_ values: [String]) { lock.withLock { acknowledgedValues.formUnion(values) } }

    var all: [Delivery] { lock.withLock { deliveries } }
    /// Values whose ack the server confirmed.
    var acknowledgedSet: Set<String> { lock.withLock { acknowledgedValues } }
    var uniqueCount: Int { lock.withLock { Set(deliveries.map(\.value)).count } }
    var redeliveredAfterAck: [String] { lock.withLock { deliveredAfterAck } }
}

/// A competing consumer: receives in a loop through its nodes (moving to the next on a
/// transport error or 503), records every delivery, and acks what `shouldAck` allows at once.
/// Bounded by `until` (checked after each request) and by `deadline`.
struct QueueReceiver: Sendable {
    let queue: String
    let clients: [NodeClient]
    let maxMessages: Int
    let waitMilliseconds: Int

    init(queue: String, nodes: [ClusterNode], maxMessages: Int = 50, waitMilliseconds: Int = 500) throws {
        self.queue = queue
        // Own connections: NodeClient serializes requests, and receivers must not wait on each other.
        self.clients = try nodes.map { try NodeClient(port: $0.httpPort, timeoutMilliseconds: 15_000) }
        self.maxMessages = maxMessages
        self.waitMilliseconds = waitMilliseconds
    }

    func run(
        log: DeliveryLog, deadline: ContinuousClock.Instant, shouldAck: @escaping @Sendable (Delivery) -> Bool = { _ in true },
        until done: @escaping @Sendable () -> Bool
    ) async {
        var index = 0
        let body = JSONValue.object([("max_messages", .integer(Int64(maxMessages))), ("wait_ms", .integer(Int64(waitMilliseconds)))])
        while !done() && ContinuousClock.now < deadline {
            let client = clients[index % clients.count]
            guard let reply = try? await client.send(.post, "/v1/queues/\(queue)/receive", json: body), reply.status == 200 else {
                index += 1
                try? await Task.sleep(for: .milliseconds(50))
                continue
            }
            let deliveries = (reply.json?["messages"]?.arrayValue ?? []).compactMap(Self.delivery)
            for delivery in deliveries { log.record(delivery) }
            let toAck = deliveries.filter(shouldAck)
            guard !toAck.isEmpty else { continue }
            let ackBody = JSONValue.object([("receipts", .array(toAck.map { .string($0.receipt) }))])
            if let answer = try? await client.send(.post, "/v1/queues/\(queue)/ack", json: ackBody), answer.status == 200,
               let results = answer.json?["results"]?.arrayValue, results.count == toAck.count {
                log.acknowledged(zip(toAck, results).filter { $1.stringValue == "acknowledged" }.map(\.0.value))
            } else {
                index += 1  // the ack's outcome is unknown: those messages may come back, which is allowed
            }
        }
    }

    static func delivery(_ json: JSONValue) -> Delivery? {
        guard let value = json["value"]?.stringValue, let count = json["delivery_count"]?.int64Value,
              let partition = json["partition"]?.int64Value, let receipt = json["receipt"]?.stringValue else { return nil }
        var headers: [String: String] = [:]
        for (name, text) in json["headers"]?.objectValue ?? [] { headers[name] = text.stringValue }
        return Delivery(value: value, deliveryCount: Int(count), partition: Int(partition), receipt: receipt, headers: headers)
    }
}

/// An integer shared between tasks.
final class SharedCount: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func set(_ newValue: Int) { lock.withLock { count = newValue } }
}
