import Foundation
import MOMClient

/// `momctl cluster status`: the views of every node merged into one picture, with the groups
/// that need attention. Pure: built from parsed answers, so the rules are tested without a
/// cluster.
///
/// A group is under-replicated when it has no leader, when one of its voters is not live, or
/// when the leader reports a follower more than `lagThreshold` entries behind (the idea of
/// Kafka's in-sync replicas, measured in Raft entries).
struct ClusterReport: Sendable {
    struct NodeRow: Sendable, Equatable {
        var node: ClusterView.Node
        /// Nil when this node answered GET /v1/cluster; else why not.
        var unreachable: String?
    }

    struct Problem: Sendable, Equatable {
        var group: String
        var owner: String
        var reason: String
    }

    var nodes: [NodeRow] = []
    var groups: [ClusterView.Group] = []
    var topics: [TopicInfo] = []
    var queues: [QueueStats] = []
    var underReplicated: [Problem] = []
    /// Notes for the reader: topics not described, a call that failed.
    var notes: [String] = []

    static let defaultLagThreshold: UInt64 = 1_000

    /// Merges views: every node any view lists; each group as its leader sees it (the only view
    /// with follower lag), else as any node sees it.
    static func build(
        views: [ClusterView], unreachable: [UInt64: String], topics: [TopicInfo], queues: [QueueStats],
        lagThreshold: UInt64 = defaultLagThreshold
    ) -> ClusterReport {
        var report = ClusterReport()
        var nodes: [UInt64: ClusterView.Node] = [:]
        for view in views { for node in view.nodes where nodes[node.id] == nil { nodes[node.id] = node } }
        report.nodes = nodes.keys.sorted().map { NodeRow(node: nodes[$0]!, unreachable: unreachable[$0]) }
        var chosen: [String: ClusterView.Group] = [:]
        for view in views {
            for group in view.groups {
                let isLeaderView = group.role == "leader" || (group.leader != nil && group.leader == view.nodeID)
                if chosen[group.group] == nil || (isLeaderView && chosen[group.group]!.followerLag.isEmpty) {
                    chosen[group.group] = group
                }
            }
        }
        report.groups = chosen.values.sorted { ($0.owner, $0.group) < ($1.owner, $1.group) }
        let live = Set(nodes.values.filter(\.live).map(\.id))
        for group in report.groups {
            for reason in problems(group, live: live, lagThreshold: lagThreshold) {
                report.underReplicated.append(Problem(group: group.group, owner: group.owner, reason: reason))
            }
        }
        report.topics = topics.sorted { $0.name < $1.name }
        report.queues = queues.sorted { $0.name < $1.name }
        return report
    }

    static func problems(_ group: ClusterView.Group, live: Set<UInt64>, lagThreshold: UInt64) -> [String] {
        var reasons: [String] = []
        if group.leader == nil { reasons.append("no leader") }
        for voter in group.voters.sorted() where !live.contains(voter) {
            reasons.append("voter \(voter) is not live")
        }
        for peer in group.followerLag.keys.sorted() where group.followerLag[peer]! > lagThreshold && live.contains(peer) {
            reasons.append("voter \(peer) is \(group.followerLag[peer]!) entries behind")
        }
        return reasons
    }

    var leaderlessCount: Int { groups.filter { $0.leader == nil }.count }

    /// One line a person reads first.
    var summary: String {
        let live = nodes.filter(\.node.live).count
        let underReplicatedGroups = Set(underReplicated.map(\.group)).count
        return "\(live) of \(nodes.count) nodes live, \(groups.count) groups, \(leaderlessCount) without a leader, "
            + "\(underReplicatedGroups) under-replicated"
    }
}
