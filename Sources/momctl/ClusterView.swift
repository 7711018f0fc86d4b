import Foundation

/// One node's answer to GET /v1/cluster, parsed leniently: the view grows with the broker, so
/// unknown fields are ignored and optional ones may be missing. Pure.
struct ClusterView: Sendable, Equatable {
    struct Node: Sendable, Equatable {
        var id: UInt64
        var http: String
        var raft: String
        var live: Bool
    }

    struct Group: Sendable, Equatable {
        /// The group id as text (a number today; text keeps us independent of that).
        var group: String
        /// What the group replicates: "__meta" or "topic:orders/0"; empty when unknown.
        var owner: String
        /// This node's role in the group ("leader", "follower", …); empty when not reported.
        var role: String
        var leader: UInt64?
        var term: UInt64
        var commitIndex: UInt64
        var voters: [UInt64]
        /// Entries each follower is behind the leader; only the leader's view has them.
        var followerLag: [UInt64: UInt64]
        /// Non-voting members (nodes catching up, `__meta` followers).
        var learners: [UInt64] = []
        /// Where the voters are going (a reassignment, `__meta`'s target); nil when not reported.
        var target: [UInt64]?
    }

    /// The node that answered, when it says.
    var nodeID: UInt64?
    var nodes: [Node]
    var groups: [Group]

    struct Malformed: Error, Equatable {
        var detail: String
    }

    static func parse(_ bytes: [UInt8]) throws(Malformed) -> ClusterView {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw Malformed(detail: "GET /v1/cluster did not return a JSON object")
        }
        guard let nodes = object["nodes"] as? [[String: Any]], let groups = object["groups"] as? [[String: Any]] else {
            throw Malformed(detail: "GET /v1/cluster has no 'nodes' and 'groups' arrays")
        }
        return ClusterView(
            nodeID: unsigned(object["node_id"]),
            nodes: nodes.compactMap { node in
                guard let id = unsigned(node["id"]) else { return nil }
                return Node(id: id, http: node["http"] as? String ?? "", raft: node["raft"] as? String ?? "",
                            live: node["live"] as? Bool ?? true)
            },
            groups: groups.compactMap(parseGroup))
    }

    private static func parseGroup(_ group: [String: Any]) -> Group? {
        let id: String
        if let text = group["group"] as? String { id = text } else if let number = unsigned(group["group"]) { id = "\(number)" } else { return nil }
        var lag: [UInt64: UInt64] = [:]
        for (peer, value) in group["follower_lag"] as? [String: Any] ?? [:] {
            if let peerID = UInt64(peer), let entries = unsigned(value) { lag[peerID] = entries }
        }
        return Group(
            group: id, owner: group["owner"] as? String ?? "", role: group["role"] as? String ?? "",
            leader: unsigned(group["leader"]), term: unsigned(group["term"]) ?? 0,
            commitIndex: unsigned(group["commit_index"]) ?? 0,
            voters: (group["voters"] as? [Any] ?? []).compactMap(unsigned), followerLag: lag,
            learners: (group["learners"] as? [Any] ?? []).compactMap(unsigned),
            target: (group["target"] as? [Any])?.compactMap(unsigned))
    }

    private static func unsigned(_ value: Any?) -> UInt64? {
        if let integer = value as? Int { return integer >= 0 ? UInt64(integer) : nil }
        if let large = value as? UInt64 { return large }
        return nil
    }
}
