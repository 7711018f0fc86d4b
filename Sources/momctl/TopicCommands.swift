import Foundation
import MOMClient
import MOMCore

/// `momctl topic create|list|describe|delete|reassign`.
enum TopicCommands {
    static let group = ServerCommandGroup.make(
        name: "topic", summary: "create, list, describe, delete or reassign topics",
        subcommands: [create, list, describe, delete, ReassignCommands.subcommand(kind: "topic")])

    static let create = ServerSubcommand(
        name: "create",
        usage: "momctl topic create NAME [--partitions N] [--replication-factor N] [--retention-ms MS] [--retention-bytes B]",
        details: "Creates a topic. Partitions default to 3 and the replication factor to 3 (a standalone\n"
            + "broker needs --replication-factor 1). Retention is unlimited unless given.",
        options: ["partitions", "replication-factor", "retention-ms", "retention-bytes"].map {
            OptionSpecification(name: $0, takesValue: true)
        }
    ) { invocation in
        let arguments = invocation.arguments
        let name = try arguments.single("topic name")
        let limits = Limits.standard
        let partitions = try arguments.integer("partitions", in: 1...limits.partitionsPerResourceMax) ?? 3
        let replication = try arguments.integer("replication-factor", in: 1...limits.replicationFactorMax) ?? 3
        let retentionMilliseconds = try arguments.unsigned("retention-ms")
        let retentionBytes = try arguments.unsigned("retention-bytes")
        try await invocation.session().client.createTopic(
            name, partitions: partitions, replicationFactor: replication,
            retentionMilliseconds: retentionMilliseconds, retentionBytes: retentionBytes)
        invocation.console.output("created topic '\(name)' with \(partitions) partitions, replication factor \(replication)")
    }

    static let list = ServerSubcommand(
        name: "list", usage: "momctl topic list [--output table|json]",
        details: "Lists topic names, sorted.", readsOutput: true
    ) { invocation in
        try invocation.arguments.none()
        let names = try await invocation.session().client.listTopics().sorted()
        var table = Table(["TOPIC"])
        for name in names { table.append([name]) }
        invocation.print(table: table, json: ["topics": names])
    }

    static let describe = ServerSubcommand(
        name: "describe", usage: "momctl topic describe NAME [--output table|json]",
        details: "Shows each partition's leader, replicas, log start offset and high watermark.\n"
            + "A leader of '-' means an election is running.",
        readsOutput: true
    ) { invocation in
        let name = try invocation.arguments.single("topic name")
        let topic = try await invocation.session().client.topic(name)
        invocation.print(table: TopicFormat.table(topic), json: TopicFormat.json(topic))
    }

    static let delete = ServerSubcommand(
        name: "delete", usage: "momctl topic delete NAME",
        details: "Deletes a topic and all its records. There is no undo."
    ) { invocation in
        let name = try invocation.arguments.single("topic name")
        try await invocation.session().client.deleteTopic(name)
        invocation.console.output("deleted topic '\(name)'")
    }
}

/// How a topic description prints.
enum TopicFormat {
    static func table(_ topic: TopicInfo) -> Table {
        var table = Table(["PARTITION", "LEADER", "REPLICAS", "LOG-START", "HIGH-WATERMARK"])
        for partition in topic.partitions.sorted(by: { $0.partition < $1.partition }) {
            table.append([
                "\(partition.partition)", partition.leader.map { "\($0.rawValue)" } ?? "-",
                partition.replicas.map { "\($0.rawValue)" }.joined(separator: ","),
                "\(partition.logStartOffset.rawValue)", "\(partition.highWatermark.rawValue)",
            ])
        }
        return table
    }

    static func json(_ topic: TopicInfo) -> [String: Any] {
        [
            "name": topic.name,
            "partitions": topic.partitions.map { partition -> [String: Any] in
                [
                    "partition": partition.partition,
                    "leader": partition.leader.map { $0.rawValue as Any } ?? NSNull(),
                    "replicas": partition.replicas.map(\.rawValue),
                    "log_start_offset": partition.logStartOffset.rawValue,
                    "high_watermark": partition.highWatermark.rawValue,
                ]
            },
        ]
    }
}
