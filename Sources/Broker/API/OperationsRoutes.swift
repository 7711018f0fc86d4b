import Auth
import HTTPServer
import MOMCore
import Replication

/// `GET /healthz` and `GET /v1/cluster`.
extension BrokerAPI {
    func registerOperations(_ router: inout Router) {
        router.add(.get, "/healthz") { _ in
            var writer = JSONWriter()
            writer.beginObject()
            writer.field("status", "ok")
            writer.field("node_id", self.node.config.nodeID.rawValue)
            // Where the catalog is led from, as this node knows it: readiness probes wait for it.
            writer.key("meta_leader")
            if let leader = self.node.host.status(of: MetaStateMachine.group)?.leader { writer.unsigned(leader.rawValue) } else { writer.null() }
            writer.endObject()
            return .json(bytes: writer.bytes)
        }
        router.add(.get, "/v1/cluster", action: .viewCluster, gate: gate) { _, responder in responder.send(.json(bytes: self.clusterJSON())) }
    }

    /// Nodes with their addresses and liveness, and every group hosted here with its leader,
    /// term, commit index and follower lag.
    func clusterJSON() -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("node_id", node.config.nodeID.rawValue)
        writer.key("nodes")
        writer.beginArray()
        let live = node.peers.live
        for id in live.keys.sorted() {
            writer.beginObject()
            writer.field("id", id.rawValue)
            writer.field("http", live[id]!.http)
            writer.field("raft", live[id]!.raft)
            writer.key("live")
            writer.bool(true)
            writer.endObject()
        }
        writer.endArray()
        writer.key("groups")
        writer.beginArray()
        let catalog = node.meta.current
        for status in node.host.statuses() {
            writer.beginObject()
            writer.field("group", status.group.rawValue)
            if status.group == MetaStateMachine.group {
                writer.field("owner", "__meta")
            } else if let owner = catalog.group(status.group)?.owner {
                writer.field("owner", "\(owner.destinationType.name):\(owner.name)/\(owner.partition.rawValue)")
            }
            writer.field("role", "\(status.role)")
            writer.key("leader")
            if let leader = status.leader { writer.unsigned(leader.rawValue) } else { writer.null() }
            writer.field("term", status.term.rawValue)
            writer.field("commit_index", status.commit.rawValue)
            writer.key("voters")
            writer.beginArray()
            for voter in status.voters { writer.unsigned(voter.rawValue) }
            writer.endArray()
            // Non-voting members: nodes catching up during a reassignment, `__meta` followers.
            writer.key("learners")
            writer.unsignedArray(status.learners.map(\.rawValue))
            // Where the voters are going (a partition's catalog replicas; `__meta`'s target
            // voters, or its formation set if none was ever set): equal to `voters` when settled.
            let target = status.group == MetaStateMachine.group
                ? catalog.metaVoters ?? node.config.metaReplicas : catalog.group(status.group)?.replicas
            if let target {
                writer.key("target")
                writer.unsignedArray(target.map(\.rawValue))
            }
            writer.key("follower_lag")
            writer.beginObject()
            for peer in status.followerLag.keys.sorted() { writer.key("\(peer.rawValue)"); writer.unsigned(status.followerLag[peer]!) }
            writer.endObject()
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }
}
