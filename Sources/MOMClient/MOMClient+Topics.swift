import Foundation
import MOMCore

/// One partition of a topic as the broker describes it.
public struct PartitionInfo: Sendable, Equatable, Decodable {
    public var partition: Int
    /// The leader's node id; nil while there is none (an election is running).
    public var leader: NodeID?
    public var replicas: [NodeID]
    public var logStartOffset: Offset
    public var highWatermark: Offset

    enum CodingKeys: String, CodingKey {
        case partition, leader, replicas
        case logStartOffset = "log_start_offset"
        case highWatermark = "high_watermark"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        partition = try container.decode(Int.self, forKey: .partition)
        leader = try container.decodeIfPresent(UInt64.self, forKey: .leader).map(NodeID.init)
        replicas = (try container.decodeIfPresent([UInt64].self, forKey: .replicas) ?? []).map(NodeID.init)
        logStartOffset = Offset(try container.decode(UInt64.self, forKey: .logStartOffset))
        highWatermark = Offset(try container.decode(UInt64.self, forKey: .highWatermark))
    }
}

/// A topic and its partitions.
public struct TopicInfo: Sendable, Equatable, Decodable {
    public var name: String
    public var partitions: [PartitionInfo]
}

struct CreateTopicBody: Encodable {
    var name: String
    var partitions: Int
    var replicationFactor: Int
    var retentionMilliseconds: UInt64?
    var retentionBytes: UInt64?
    enum CodingKeys: String, CodingKey {
        case name, partitions
        case replicationFactor = "replication_factor"
        case retentionMilliseconds = "retention_ms"
        case retentionBytes = "retention_bytes"
    }
}

struct TopicListBody: Decodable {
    private var list: NameList
    var topics: [String] { list.names }
    enum CodingKeys: String, CodingKey { case list = "topics" }
}

extension MOMClient {
    /// Creates a topic (POST /v1/topics). Throws `.server(status: 409, …)` if it exists.
    public func createTopic(
        _ name: String, partitions: Int = 3, replicationFactor: Int = 3,
        retentionMilliseconds: UInt64? = nil, retentionBytes: UInt64? = nil
    ) async throws {
        let body = try JSONWire.encode(CreateTopicBody(
            name: name, partitions: partitions, replicationFactor: replicationFactor,
            retentionMilliseconds: retentionMilliseconds, retentionBytes: retentionBytes))
        _ = try await send(method: "POST", target: "/v1/topics", body: body)
    }

    /// Lists topic names (GET /v1/topics).
    public func listTopics() async throws -> [String] {
        let response = try await send(method: "GET", target: "/v1/topics")
        let list: TopicListBody = try JSONWire.decode(response.body)
        return list.topics
    }

    /// Describes a topic's partitions, leaders and offsets (GET /v1/topics/{t}).
    public func topic(_ name: String) async throws -> TopicInfo {
        let response = try await send(method: "GET", target: "/v1/topics/\(try PathSegment.encode(name))")
        return try JSONWire.decode(response.body)
    }

    /// Deletes a topic and its data (DELETE /v1/topics/{t}).
    public func deleteTopic(_ name: String) async throws {
        _ = try await send(method: "DELETE", target: "/v1/topics/\(try PathSegment.encode(name))")
    }

    /// Publishes a batch (POST /v1/topics/{t}/records) and returns one position per record, in
    /// request order, once committed. With `producer`, a retry of the same batch (for example
    /// after a lost connection) returns the original offsets instead of writing duplicates.
    public func publish(
        topic: String, records: [OutgoingRecord], producer: ProducerSequence? = nil
    ) async throws -> [RecordPosition] {
        guard !records.isEmpty else { return [] }
        let body = try JSONWire.encode(ProduceRequestBody(
            records: records, producerID: producer?.producerID, sequence: producer?.sequence))
        let response = try await send(method: "POST", target: "/v1/topics/\(try PathSegment.encode(topic))/records", body: body)
        let result: OffsetsBody = try JSONWire.decode(response.body)
        guard result.offsets.count == records.count else {
            throw MOMClientError.decoding("sent \(records.count) records but got \(result.offsets.count) offsets")
        }
        return result.offsets
    }

    /// Reads committed records of one partition from `offset`
    /// (GET /v1/topics/{t}/partitions/{p}/records). With `waitMilliseconds`, the server holds
    /// the call open until data arrives when `offset` is at the end. Continue from `nextOffset`.
    public func fetch(
        topic: String, partition: Int, offset: Offset, maxRecords: Int? = nil, maxBytes: Int? = nil,
        waitMilliseconds: UInt64 = 0
    ) async throws -> FetchResult {
        var query = "offset=\(offset.rawValue)"
        if let maxRecords { query += "&max_records=\(maxRecords)" }
        if let maxBytes { query += "&max_bytes=\(maxBytes)" }
        if waitMilliseconds > 0 { query += "&wait_ms=\(waitMilliseconds)" }
        let target = "/v1/topics/\(try PathSegment.encode(topic))/partitions/\(partition)/records?\(query)"
        let response = try await send(method: "GET", target: target, extraWaitMilliseconds: waitMilliseconds)
        return try JSONWire.decode(response.body)
    }
}

/// Percent-encodes one path segment. Why: a name must never be able to change the route.
enum PathSegment {
    static func encode(_ name: String) throws(MOMClientError) -> String {
        guard !name.isEmpty else { throw .invalidArgument("an empty name cannot be used in a path") }
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "/;?#%")
        guard let encoded = name.addingPercentEncoding(withAllowedCharacters: allowed) else {
            throw .invalidArgument("'\(name)' cannot be percent-encoded")
        }
        return encoded
    }
}
