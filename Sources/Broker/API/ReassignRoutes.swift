import Auth
import Coordination
import HTTPServer
import MOMCore
import Replication

/// `POST /v1/{topics|queues}/{name}/partitions/{p}/reassign` with `{"replicas":[1,2,4]}`:
/// records the partition's new replica set in the catalog and answers 202 at once. The
/// partition's leader then moves the Raft group there one single-server change at a time
/// (`GroupMembershipDriver`); `GET /v1/cluster` on a node shows the group's voters as it goes.
extension BrokerAPI {
    func registerReassignment(_ router: inout Router) {
        router.add(.post, "/v1/topics/{t}/partitions/{p}/reassign", action: .manageTopics, gate: gate) { request, responder in
            self.reassign(.topic, name: request.pathParameter("t") ?? "", request, responder)
        }
        router.add(.post, "/v1/queues/{q}/partitions/{p}/reassign", action: .manageQueues, gate: gate) { request, responder in
            self.reassign(.queue, name: request.pathParameter("q") ?? "", request, responder)
        }
        router.add(.post, "/v1/cluster/meta/reassign", action: .manageCluster, gate: gate) { request, responder in
            self.reassignMeta(request, responder)
        }
    }

    /// `POST /v1/cluster/meta/reassign` with `{"replicas":[1,2,4]}`: `__meta`'s target voters.
    /// The `__meta` leader promotes each caught-up learner, then removes each leaver (handing
    /// leadership over first if it leaves itself).
    private func reassignMeta(_ request: HTTPRequest, _ responder: HTTPResponder) {
        guard metaLeaderOrForward(request, responder) != nil else { return }
        do {
            let voters = try Self.liveReplicaList(request, live: node.peers.live, limits: limits)
            let command = CatalogCommand.reassignMeta(voters: voters)
            try node.meta.current.validate(command)
            let previous = node.host.status(of: MetaStateMachine.group)?.voters ?? []
            proposeCatalog(command, request: request, responder: responder) { _ in
                Self.accepted(replicas: voters, previous: previous) { $0.field("group", MetaStateMachine.group.rawValue) }
            }
        } catch {
            responder.send(routeError: error)
        }
    }

    /// 202 with the target and the previous replica sets, after `describe` names what moves.
    static func accepted(replicas: [NodeID], previous: [NodeID], describe: (inout JSONWriter) -> Void) -> HTTPResponse {
        var writer = JSONWriter()
        writer.beginObject()
        describe(&writer)
        writer.key("replicas")
        writer.unsignedArray(replicas.map(\.rawValue))
        writer.key("previous_replicas")
        writer.unsignedArray(previous.map(\.rawValue))
        writer.endObject()
        return .json(.accepted, bytes: writer.bytes)
    }


    /// The body's `replicas`, each a live registered node.
    static func liveReplicaList(_ request: HTTPRequest, live: [NodeID: NodeRegistration], limits: Limits) throws -> [NodeID] {
        let replicas = try replicaList(try RequestJSON.object(request, limits: limits))
        if let unknown = replicas.first(where: { live[$0] == nil }) {
            throw HTTPError.badRequest("node \(unknown.rawValue) is not a live registered node (live: \(live.keys.sorted().map(\.rawValue))); start it first")
        }
        return replicas
    }

    private func reassign(_ type: DestinationType, name: String, _ request: HTTPRequest, _ responder: HTTPResponder) {
        guard metaLeaderOrForward(request, responder) != nil else { return }
        do {
            guard let partition = request.pathParameter("p").flatMap(UInt32.init) else {
                throw HTTPError.badRequest("the partition must be a number, not '\(ResourceName.printable(request.pathParameter("p") ?? ""))'")
            }
            let replicas = try Self.liveReplicaList(request, live: node.peers.live, limits: limits)
            let command = CatalogCommand.reassignPartition(ReassignPartition(
                destinationType: type, name: name, partition: PartitionID(partition), replicas: replicas))
            let catalog = node.meta.current
            try catalog.validate(command)
            let previous = Self.placement(in: catalog, type, name, partition)?.replicas ?? []
            proposeCatalog(command, request: request, responder: responder) { outcome in
                Self.accepted(replicas: replicas, previous: previous) { writer in
                    writer.field(type.name, name)
                    writer.field("partition", UInt64(partition))
                    if let assignment = outcome.reassignedGroups.first { writer.field("group", assignment.group.rawValue) }
                }
            }
        } catch {
            responder.send(routeError: error)
        }
    }

    /// `replicas`: a non-empty array of node IDs (the catalog checks count and duplicates).
    static func replicaList(_ body: JSONValue) throws(HTTPError) -> [NodeID] {
        guard let items = body["replicas"]?.arrayValue else {
            throw .badRequest("'replicas' is required: an array of node IDs, the preferred leader first")
        }
        var replicas: [NodeID] = []
        for item in items {
            guard let id = item.int64Value, id > 0 else { throw .badRequest("'replicas' must hold positive node IDs") }
            replicas.append(NodeID(UInt64(id)))
        }
        return replicas
    }

    static func placement(in catalog: Catalog, _ type: DestinationType, _ name: String, _ partition: UInt32) -> PartitionPlacement? {
        let partitions = type == .topic ? catalog.topic(name)?.partitions : catalog.queue(name)?.partitions
        return partitions.flatMap { Int(partition) < $0.count ? $0[Int(partition)] : nil }
    }
}

extension JSONWriter {
    mutating func unsignedArray(_ values: [UInt64]) {
        beginArray()
        for value in values { unsigned(value) }
        endArray()
    }
}
