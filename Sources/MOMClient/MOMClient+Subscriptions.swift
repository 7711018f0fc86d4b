import Foundation
import MOMCore

/// Where a new subscription's cursor starts.
public enum SubscriptionStart: String, Sendable {
    case earliest
    case latest
}

/// A subscription's committed cursor and lag in one partition.
public struct SubscriptionPartitionLag: Sendable, Equatable, Decodable {
    public var partition: Int
    /// The next offset the subscription will read in this partition.
    public var committedOffset: Offset
    public var highWatermark: Offset
    /// Records committed to the partition but not yet committed by the subscription.
    public var lag: UInt64

    enum CodingKeys: String, CodingKey {
        case partition, lag
        case committedOffset = "committed_offset"
        case highWatermark = "high_watermark"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        partition = try container.decode(Int.self, forKey: .partition)
        committedOffset = Offset(try container.decode(UInt64.self, forKey: .committedOffset))
        highWatermark = Offset(try container.decode(UInt64.self, forKey: .highWatermark))
        lag = try container.decode(UInt64.self, forKey: .lag)
    }
}

/// A subscription with its cursor and lag per partition.
public struct SubscriptionInfo: Sendable, Equatable, Decodable {
    public var name: String
    public var topic: String
    public var partitions: [SubscriptionPartitionLag]

    /// Total lag across partitions.
    public var totalLag: UInt64 { partitions.reduce(0) { $0 &+ $1.lag } }
}

struct CreateSubscriptionBody: Encodable {
    var name: String
    var start: String
}

struct SubscriptionListBody: Decodable {
    private var list: NameList
    var subscriptions: [String] { list.names }
    enum CodingKeys: String, CodingKey { case list = "subscriptions" }
}

extension MOMClient {
    /// Creates a named cursor on a topic (POST /v1/topics/{t}/subscriptions).
    public func createSubscription(topic: String, name: String, start: SubscriptionStart = .latest) async throws {
        let body = try JSONWire.encode(CreateSubscriptionBody(name: name, start: start.rawValue))
        _ = try await send(method: "POST", target: "/v1/topics/\(try PathSegment.encode(topic))/subscriptions", body: body)
    }

    /// Lists a topic's subscriptions (GET /v1/topics/{t}/subscriptions).
    public func listSubscriptions(topic: String) async throws -> [String] {
        let response = try await send(method: "GET", target: "/v1/topics/\(try PathSegment.encode(topic))/subscriptions")
        let list: SubscriptionListBody = try JSONWire.decode(response.body)
        return list.subscriptions
    }

    /// Deletes a subscription (DELETE /v1/topics/{t}/subscriptions/{s}).
    public func deleteSubscription(topic: String, name: String) async throws {
        _ = try await send(method: "DELETE", target: try subscriptionPath(topic: topic, name: name))
    }

    /// The next records after the committed cursor, from all partitions; each carries its
    /// partition. Commit what you processed with `commit(topic:subscription:positions:)`.
    public func poll(
        topic: String, subscription: String, maxRecords: Int? = nil, waitMilliseconds: UInt64 = 0
    ) async throws -> [FetchedRecord] {
        var query: [String] = []
        if let maxRecords { query.append("max_records=\(maxRecords)") }
        if waitMilliseconds > 0 { query.append("wait_ms=\(waitMilliseconds)") }
        var target = try subscriptionPath(topic: topic, name: subscription) + "/records"
        if !query.isEmpty { target += "?" + query.joined(separator: "&") }
        let response = try await send(method: "GET", target: target, extraWaitMilliseconds: waitMilliseconds)
        let body: RecordsBody = try JSONWire.decode(response.body)
        return body.records
    }

    /// Commits the cursor (POST …/commit): each position is the NEXT offset to read in its
    /// partition, i.e. the last processed offset + 1.
    public func commit(topic: String, subscription: String, positions: [RecordPosition]) async throws {
        let body = try JSONWire.encode(OffsetsBody(offsets: positions))
        _ = try await send(method: "POST", target: try subscriptionPath(topic: topic, name: subscription) + "/commit", body: body)
    }

    /// The cursor and lag per partition (GET /v1/topics/{t}/subscriptions/{s}).
    public func subscription(topic: String, name: String) async throws -> SubscriptionInfo {
        let response = try await send(method: "GET", target: try subscriptionPath(topic: topic, name: name))
        return try JSONWire.decode(response.body)
    }

    private func subscriptionPath(topic: String, name: String) throws -> String {
        "/v1/topics/\(try PathSegment.encode(topic))/subscriptions/\(try PathSegment.encode(name))"
    }
}
