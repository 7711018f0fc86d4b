import Foundation
import MOMCore

/// A message claimed from a queue. Ack it with its `receipt` within the queue's ack timeout,
/// or it is delivered again.
public struct ReceivedMessage: Sendable, Equatable, Decodable {
    /// Opaque; pass it back to `ack(queue:receipts:)` unchanged.
    public var receipt: String
    public var partition: Int
    public var offset: Offset
    public var key: [UInt8]?
    public var value: [UInt8]
    public var headers: [String: String]
    /// 1 on first delivery; higher after ack timeouts.
    public var deliveryCount: Int

    /// The value as text, if it is UTF-8.
    public var valueText: String? { String(validating: value, as: UTF8.self) }

    enum CodingKeys: String, CodingKey {
        case receipt, partition, offset, key, value, headers
        case keyBase64 = "key_base64"
        case valueBase64 = "value_base64"
        case deliveryCount = "delivery_count"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        receipt = try container.decode(String.self, forKey: .receipt)
        partition = try container.decode(Int.self, forKey: .partition)
        offset = Offset(try container.decode(UInt64.self, forKey: .offset))
        key = try BytesField.decode(from: container, text: .key, base64: .keyBase64)
        value = try BytesField.decode(from: container, text: .value, base64: .valueBase64) ?? []
        headers = try container.decodeIfPresent([String: String].self, forKey: .headers) ?? [:]
        deliveryCount = try container.decode(Int.self, forKey: .deliveryCount)
    }
}

/// Queue counters (GET /v1/queues/{q}).
public struct QueueStats: Sendable, Equatable, Decodable {
    public var name: String
    /// Messages waiting to be received.
    public var depth: UInt64
    /// Messages received but not yet acked.
    public var inFlight: UInt64
    /// Messages moved to `<q>.dead-letter` after `max_deliveries`.
    public var deadLettered: UInt64

    enum CodingKeys: String, CodingKey {
        case name, depth
        case inFlight = "in_flight"
        case deadLettered = "dead_lettered"
    }
}

struct CreateQueueBody: Encodable {
    var name: String
    var partitions: Int
    var replicationFactor: Int
    var ackTimeoutMilliseconds: UInt64
    var maxDeliveries: Int?
    enum CodingKeys: String, CodingKey {
        case name, partitions
        case replicationFactor = "replication_factor"
        case ackTimeoutMilliseconds = "ack_timeout_ms"
        case maxDeliveries = "max_deliveries"
    }
}

/// Queue messages carry no partition; the broker spreads them.
struct QueueMessageBody: Encodable {
    var record: OutgoingRecord
    func encode(to encoder: any Encoder) throws {
        var plain = record
        plain.partition = nil
        try plain.encode(to: encoder)
    }
}

struct SendMessagesBody: Encodable { var messages: [QueueMessageBody] }

struct ReceiveBody: Encodable {
    var maxMessages: Int
    var waitMilliseconds: UInt64
    enum CodingKeys: String, CodingKey {
        case maxMessages = "max_messages"
        case waitMilliseconds = "wait_ms"
    }
}

struct ReceiveResponseBody: Decodable { var messages: [ReceivedMessage] }
struct AckBody: Encodable { var receipts: [String] }
struct QueueListBody: Decodable {
    private var list: NameList
    var queues: [String] { list.names }
    enum CodingKeys: String, CodingKey { case list = "queues" }
}

extension MOMClient {
    /// Creates a queue (POST /v1/queues). With `maxDeliveries`, the broker also creates
    /// `<name>.dead-letter` and moves a message there after that many deliveries.
    public func createQueue(
        _ name: String, partitions: Int = 3, replicationFactor: Int = 3,
        ackTimeoutMilliseconds: UInt64 = 30_000, maxDeliveries: Int? = nil
    ) async throws {
        let body = try JSONWire.encode(CreateQueueBody(
            name: name, partitions: partitions, replicationFactor: replicationFactor,
            ackTimeoutMilliseconds: ackTimeoutMilliseconds, maxDeliveries: maxDeliveries))
        _ = try await send(method: "POST", target: "/v1/queues", body: body)
    }

    /// Lists queue names (GET /v1/queues).
    public func listQueues() async throws -> [String] {
        let response = try await send(method: "GET", target: "/v1/queues")
        let list: QueueListBody = try JSONWire.decode(response.body)
        return list.queues
    }

    /// Deletes a queue (DELETE /v1/queues/{q}).
    public func deleteQueue(_ name: String) async throws {
        _ = try await send(method: "DELETE", target: "/v1/queues/\(try PathSegment.encode(name))")
    }

    /// Enqueues messages (POST /v1/queues/{q}/messages); returns where each was stored.
    @discardableResult
    public func send(queue: String, messages: [OutgoingRecord]) async throws -> [RecordPosition] {
        guard !messages.isEmpty else { return [] }
        let body = try JSONWire.encode(SendMessagesBody(messages: messages.map(QueueMessageBody.init)))
        let response = try await send(method: "POST", target: "/v1/queues/\(try PathSegment.encode(queue))/messages", body: body)
        guard !response.body.isEmpty else { return [] }
        let result: OffsetsBody = try JSONWire.decode(response.body)
        return result.offsets
    }

    /// Claims up to `maxMessages` (POST /v1/queues/{q}/receive), waiting up to
    /// `waitMilliseconds` for the first one.
    public func receive(queue: String, maxMessages: Int = 10, waitMilliseconds: UInt64 = 0) async throws -> [ReceivedMessage] {
        let body = try JSONWire.encode(ReceiveBody(maxMessages: maxMessages, waitMilliseconds: waitMilliseconds))
        let response = try await send(
            method: "POST", target: "/v1/queues/\(try PathSegment.encode(queue))/receive", body: body,
            extraWaitMilliseconds: waitMilliseconds)
        let result: ReceiveResponseBody = try JSONWire.decode(response.body)
        return result.messages
    }

    /// Acknowledges messages by receipt (POST /v1/queues/{q}/ack).
    public func ack(queue: String, receipts: [String]) async throws {
        guard !receipts.isEmpty else { return }
        let body = try JSONWire.encode(AckBody(receipts: receipts))
        _ = try await send(method: "POST", target: "/v1/queues/\(try PathSegment.encode(queue))/ack", body: body)
    }

    /// Depth, in-flight and dead-lettered counts (GET /v1/queues/{q}).
    public func queueStats(_ name: String) async throws -> QueueStats {
        let response = try await send(method: "GET", target: "/v1/queues/\(try PathSegment.encode(name))")
        return try JSONWire.decode(response.body)
    }
}
