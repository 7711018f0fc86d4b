import Foundation
import MOMClient

/// How `cluster status` prints: sections of tables, or one JSON document. Pure.
extension ClusterReport {
    /// The voters, then "→" and the target while the group is moving there (a reassignment,
    /// a `__meta` voter change): "1,2,3→1,2,4".
    static func votersCell(_ group: ClusterView.Group) -> String {
        let voters = group.voters.map { "\($0)" }.joined(separator: ",")
        guard let target = group.target, Set(target) != Set(group.voters) else { return voters }
        return voters + "→" + target.map { "\($0)" }.joined(separator: ",")
    }

    func render() -> String {
        var text = "NODES\n"
        var nodeTable = Table(["ID", "HTTP", "RAFT", "LIVE", "ANSWERED"])
        for row in nodes {
            nodeTable.append([
                "\(row.node.id)", row.node.http, row.node.raft, row.node.live ? "yes" : "no",
                row.unreachable.map { "no: " + $0 } ?? "yes",
            ])
        }
        text += nodeTable.render() + "\nGROUPS\n"
        var groupTable = Table(["GROUP", "OWNER", "LEADER", "TERM", "COMMIT", "VOTERS", "MAX-FOLLOWER-LAG"])
        for group in groups {
            groupTable.append([
                group.group, group.owner.isEmpty ? "-" : group.owner, group.leader.map { "\($0)" } ?? "-",
                "\(group.term)", "\(group.commitIndex)", Self.votersCell(group),
                group.followerLag.values.max().map { "\($0)" } ?? "-",
            ])
        }
        text += groupTable.render()
        if !topics.isEmpty {
            text += "\nTOPICS\n" + topicTable().render()
        }
        if !queues.isEmpty {
            var queueTable = Table(["QUEUE", "DEPTH", "IN-FLIGHT", "DEAD-LETTERED"])
            for queue in queues {
                queueTable.append([queue.name, "\(queue.depth)", "\(queue.inFlight)", "\(queue.deadLettered)"])
            }
            text += "\nQUEUES\n" + queueTable.render()
        }
        text += "\nUNDER-REPLICATED\n"
        if underReplicated.isEmpty {
            text += "none\n"
        } else {
            var problemTable = Table(["GROUP", "OWNER", "REASON"])
            for problem in underReplicated { problemTable.append([problem.group, problem.owner.isEmpty ? "-" : problem.owner, problem.reason]) }
            text += problemTable.render()
        }
        for note in notes { text += "\nnote: " + note }
        if !notes.isEmpty { text += "\n" }
        return text + "\n" + summary + "\n"
    }

    private func topicTable() -> Table {
        var table = Table(["TOPIC", "PARTITION", "LEADER", "REPLICAS", "LOG-START", "HIGH-WATERMARK"])
        for topic in topics {
            for row in TopicFormat.table(topic).rows { table.append([topic.name] + row) }
        }
        return table
    }

    func json() -> [String: Any] {
        [
            "summary": summary,
            "nodes": nodes.map { row -> [String: Any] in
                var object: [String: Any] = ["id": row.node.id, "http": row.node.http, "raft": row.node.raft, "live": row.node.live]
                object["unreachable"] = row.unreachable ?? NSNull()
                return object
            },
            "groups": groups.map { group -> [String: Any] in
                [
                    "group": group.group, "owner": group.owner, "role": group.role,
                    "leader": group.leader.map { $0 as Any } ?? NSNull(), "term": group.term,
                    "commit_index": group.commitIndex, "voters": group.voters, "learners": group.learners,
                    "target": group.target.map { $0 as Any } ?? NSNull(),
                    "follower_lag": Dictionary(uniqueKeysWithValues: group.followerLag.map { ("\($0.key)", $0.value) }),
                ]
            },
            "topics": topics.map(TopicFormat.json),
            "queues": queues.map(QueueFormat.json),
            "under_replicated": underReplicated.map { ["group": $0.group, "owner": $0.owner, "reason": $0.reason] },
            "notes": notes,
        ]
    }
}
