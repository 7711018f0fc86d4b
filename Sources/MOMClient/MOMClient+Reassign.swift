import Foundation
import MOMCore

/// What `POST …/partitions/{p}/reassign` recorded: the move is under way, not finished.
public struct Reassignment: Sendable, Equatable, Decodable {
    public var partition: Int
    public var replicas: [NodeID]
    public var previousReplicas: [NodeID]

    enum CodingKeys: String, CodingKey {
        case partition, replicas
        case previousReplicas = "previous_replicas"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        partition = try container.decode(Int.self, forKey: .partition)
        replicas = try container.decode([UInt64].self, forKey: .replicas).map(NodeID.init)
        previousReplicas = try container.decode([UInt64].self, forKey: .previousReplicas).map(NodeID.init)
    }
}

/// One queue partition's replica set (GET /v1/queues/{q}).
public struct QueuePartitionReplicas: Sendable, Equatable, Decodable {
    public var partition: Int
    public var replicas: [NodeID]

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        partition = try container.decode(Int.self, forKey: .partition)
        replicas = try container.decode([UInt64].self, forKey: .replicas).map(NodeID.init)
    }

    enum CodingKeys: String, CodingKey { case partition, replicas }
}

struct QueuePartitionsBody: Decodable {
    var partitions: [QueuePartitionReplicas]
}

/// What `POST /v1/cluster/meta/reassign` recorded: `__meta`'s target voters and the voters in
/// force when it was asked. The change itself goes on in the cluster.
public struct MetaReassignment: Sendable, Equatable, Decodable {
    public var replicas: [NodeID]
    public var previousReplicas: [NodeID]

    enum CodingKeys: String, CodingKey {
        case replicas
        case previousReplicas = "previous_replicas"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        replicas = try container.decode([UInt64].self, forKey: .replicas).map(NodeID.init)
        previousReplicas = try container.decode([UInt64].self, forKey: .previousReplicas).map(NodeID.init)
    }
}

struct ReassignBody: Encodable {
    var replicas: [UInt64]
}

extension MOMClient {
    /// Moves a topic partition to `replicas` (POST /v1/topics/{t}/partitions/{p}/reassign).
    /// Returns once the target is recorded; the move itself goes on in the cluster.
    public func reassign(topic: String, partition: Int, replicas: [NodeID]) async throws -> Reassignment {
        try await reassign(kind: "topics", name: topic, partition: partition, replicas: replicas)
    }

    /// Moves a queue partition to `replicas` (POST /v1/queues/{q}/partitions/{p}/reassign).
    public func reassign(queue: String, partition: Int, replicas: [NodeID]) async throws -> Reassignment {
        try await reassign(kind: "queues", name: queue, partition: partition, replicas: replicas)
    }

    /// Sets `__meta`'s voters (POST /v1/cluster/meta/reassign): the catalog's own Raft group
    /// moves there one change at a time, so an original broker can be replaced.
    public func reassignMeta(voters: [NodeID]) async throws -> MetaReassignment {
        let body = try JSONWire.encode(ReassignBody(replicas: voters.map(\.rawValue)))
        return try JSONWire.decode(try await send(method: "POST", target: "/v1/cluster/meta/reassign", body: body).body)
    }

    /// Each partition's replica set of a queue (GET /v1/queues/{q}).
    public func queuePartitions(_ name: String) async throws -> [QueuePartitionReplicas] {
        let response = try await send(method: "GET", target: "/v1/queues/\(try PathSegment.encode(name))")
        let body: QueuePartitionsBody = try JSONWire.decode(response.body)
        return body.partitions
    }

    private func reassign(kind: String, name: String, partition: Int, replicas: [NodeID]) async throws -> Reassignment {
        let body = try JSONWire.encode(ReassignBody(replicas: replicas.map(\.rawValue)))
        let target = "/v1/\(kind)/\(try PathSegment.encode(name))/partitions/\(partition)/reassign"
        return try JSONWire.decode(try await send(method: "POST", target: target, body: body).body)
    }
}
