import Auth
import Coordination
import HTTPServer
import MOMCore
import Replication

/// `POST/GET/DELETE /v1/topics…`: catalog changes go through the `__meta` leader; reads come from
/// this node's replica of the catalog.
extension BrokerAPI {
    func registerTopicAdmin(_ router: inout Router) {
        router.add(.post, "/v1/topics", action: .manageTopics, gate: gate) { request, responder in self.createTopic(request, responder) }
        router.add(.get, "/v1/topics", action: .describe, gate: gate) { _, responder in responder.send(self.listTopics()) }
        router.add(.get, "/v1/topics/{t}", action: .describe, gate: gate) { request, responder in self.describeTopic(request, responder) }
        router.add(.delete, "/v1/topics/{t}", action: .manageTopics, gate: gate) { request, responder in
            let name = request.pathParameter("t") ?? ""
            self.proposeCatalog(.deleteTopic(name: name), request: request, responder: responder) { _ in
                HTTPResponse(status: .noContent)
            }
        }
    }

    private func createTopic(_ request: HTTPRequest, _ responder: HTTPResponder) {
        guard let leader = metaLeaderOrForward(request, responder) else { return }
        _ = leader
        do {
            let body = try RequestJSON.object(request, limits: limits)
            let name = try RequestJSON.string(body, "name") ?? ""
            let partitions = Int(try RequestJSON.integer(body, "partitions", range: 1...Int64(limits.partitionsPerResourceMax), default: 1)!)
            let factor = Int(try RequestJSON.integer(body, "replication_factor", range: 1...Int64(limits.replicationFactorMax), default: 1)!)
            let retentionMilliseconds = try RequestJSON.integer(body, "retention_ms", range: 1...Int64.max).map { UInt64($0) }
            let retentionBytes = try RequestJSON.integer(body, "retention_bytes", range: 1...Int64.max).map { UInt64($0) }
            let catalog = node.meta.current
            let live = node.peers.live.keys.sorted()
            let replicas = try Placement.assign(
                partitions: partitions, replicationFactor: factor, liveNodes: live,
                existingLoad: Placement.load(of: catalog.groups), limits: limits)
            let command = CatalogCommand.createTopic(CreateTopic(
                name: name, partitions: partitions, replicationFactor: factor,
                retentionMilliseconds: retentionMilliseconds, retentionBytes: retentionBytes, replicas: replicas))
            try catalog.validate(command)
            // Answer once the new partitions hosted here have leaders (bounded), so the next
            // request — a produce — finds them ready.
            let deferred = HTTPResponder { response in
                guard response.status.code == 201, let topic = self.node.meta.current.topic(name) else { return _ = responder.send(response) }
                let hostedHere = topic.partitions.filter { $0.replicas.contains(self.node.config.nodeID) }.map(\.group)
                self.awaitLeaders(of: hostedHere, timeoutMilliseconds: self.leaderWaitMilliseconds) {
                    responder.send(.json(.created, bytes: self.topicJSON(name: name, topic: topic)))
                }
            }
            proposeCatalog(command, request: request, responder: deferred) { _ in HTTPResponse(status: .created) }
        } catch {
            responder.send(routeError: error)
        }
    }

    private func listTopics() -> HTTPResponse {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("topics")
        writer.beginArray()
        for topic in node.meta.current.topics {
            writer.beginObject()
            writer.field("name", topic.name)
            writer.field("partitions", topic.partitions.count)
            writer.field("replication_factor", topic.replicationFactor)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return .json(bytes: writer.bytes)
    }

    private func describeTopic(_ request: HTTPRequest, _ responder: HTTPResponder) {
        let name = request.pathParameter("t") ?? ""
        guard let topic = node.meta.current.topic(name) else {
            responder.send(error: node.missing(.notFound("topic '\(name)' does not exist; create it with POST /v1/topics")))
            return
        }
        describeWithRemoteBounds(name: name, topic: topic, request: request, responder: responder)
    }

    /// A topic's description: per partition its leader, replicas, log start and high watermark —
    /// from this node's replica when it hosts the partition, else from `remote` (answers of the
    /// partition's leader, keyed by partition), else the leader is null and the bounds absent.
    func topicJSON(name: String, topic: TopicConfig?, remote: [Int: JSONValue] = [:]) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("name", name)
        writer.key("partitions")
        writer.beginArray()
        for placement in topic?.partitions ?? [] {
            let status = node.host.status(of: placement.group)
            let answer = remote[Int(placement.partition.rawValue)]
            writer.beginObject()
            writer.field("partition", Int(placement.partition.rawValue))
            writer.key("leader")
            if let leader = status?.leader?.rawValue ?? answer?["leader"]?.uint64Value { writer.unsigned(leader) } else { writer.null() }
            writer.key("replicas")
            writer.beginArray()
            for replica in placement.replicas { writer.unsigned(replica.rawValue) }
            writer.endArray()
            if let status {
                writer.field("log_start_offset", status.firstIndex.rawValue - 1)
                writer.field("high_watermark", status.commit.rawValue)
            } else if let start = answer?["log_start_offset"]?.uint64Value, let end = answer?["high_watermark"]?.uint64Value {
                writer.field("log_start_offset", start)
                writer.field("high_watermark", end)
            }
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }
}
