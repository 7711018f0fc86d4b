import Foundation
import MOMCore

/// A node's answer to GET /healthz.
public struct HealthStatus: Sendable, Equatable, Decodable {
    public var status: String
    public var nodeID: NodeID

    enum CodingKeys: String, CodingKey {
        case status
        case nodeID = "node_id"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        status = try container.decode(String.self, forKey: .status)
        nodeID = NodeID(try container.decode(UInt64.self, forKey: .nodeID))
    }
}

extension MOMClient {
    /// GET /healthz on the preferred server (no auth).
    public func health() async throws -> HealthStatus {
        let response = try await send(method: "GET", target: "/healthz", authenticated: false)
        return try JSONWire.decode(response.body)
    }

    /// GET /metrics: the Prometheus text exposition, unparsed.
    public func metricsText() async throws -> String {
        let response = try await send(method: "GET", target: "/metrics", authenticated: false)
        return String(decoding: response.body, as: UTF8.self)
    }

    /// GET /v1/cluster as raw JSON bytes. Why raw: the cluster view is for operators and
    /// momctl to print, and its fields grow with the broker.
    public func clusterJSON() async throws -> [UInt8] {
        try await send(method: "GET", target: "/v1/cluster").body
    }
}
