import Foundation
import MOMClient
import MOMCore

/// `momctl subscription create|list|show|delete|poll|commit` (DESIGN §4, subscriptions).
enum SubscriptionCommands {
    static let group = ServerCommandGroup.make(
        name: "subscription", summary: "named cursors on topics: create, show lag, poll, commit",
        subcommands: [create, list, show, delete, poll, commit])

    static let create = ServerSubcommand(
        name: "create", usage: "momctl subscription create TOPIC NAME [--start earliest|latest]",
        details: "Creates a named cursor on a topic, starting at the earliest records or (default) only new ones.",
        options: [OptionSpecification(name: "start", takesValue: true)]
    ) { invocation in
        let values = try invocation.arguments.exactly(["topic name", "subscription name"])
        let startName = try invocation.arguments.choice("start", of: ["earliest", "latest"], default: "latest")
        let start = SubscriptionStart(rawValue: startName) ?? .latest
        try await invocation.session().client.createSubscription(topic: values[0], name: values[1], start: start)
        invocation.console.output("created subscription '\(values[1])' on topic '\(values[0])' from \(startName)")
    }

    static let list = ServerSubcommand(
        name: "list", usage: "momctl subscription list TOPIC [--output table|json]",
        details: "Lists the topic's subscriptions.", readsOutput: true
    ) { invocation in
        let topic = try invocation.arguments.single("topic name")
        let names = try await invocation.session().client.listSubscriptions(topic: topic).sorted()
        var table = Table(["SUBSCRIPTION"])
        for name in names { table.append([name]) }
        invocation.print(table: table, json: ["subscriptions": names])
    }

    static let show = ServerSubcommand(
        name: "show", usage: "momctl subscription show TOPIC NAME [--output table|json]",
        details: "Shows the committed cursor, the high watermark and the lag of each partition, and the total lag.",
        readsOutput: true
    ) { invocation in
        let values = try invocation.arguments.exactly(["topic name", "subscription name"])
        let info = try await invocation.session().client.subscription(topic: values[0], name: values[1])
        invocation.print(table: SubscriptionFormat.table(info), json: SubscriptionFormat.json(info))
    }

    static let delete = ServerSubcommand(
        name: "delete", usage: "momctl subscription delete TOPIC NAME", details: "Deletes a subscription and its cursor."
    ) { invocation in
        let values = try invocation.arguments.exactly(["topic name", "subscription name"])
        try await invocation.session().client.deleteSubscription(topic: values[0], name: values[1])
        invocation.console.output("deleted subscription '\(values[1])' of topic '\(values[0])'")
    }

    static let poll = ServerSubcommand(
        name: "poll", usage: "momctl subscription poll TOPIC NAME [--max-records N] [--wait-ms MS] [--commit] [--output table|json]",
        details: """
            Prints the next records after the committed cursor, from all partitions (as 'consume' does:
            values, or JSON lines with --output json). The cursor moves only on commit: --commit commits
            what was printed; else use 'momctl subscription commit'. --wait-ms (default 0, at most 30000)
            waits for records when there are none.
            """,
        options: [
            OptionSpecification(name: "max-records", takesValue: true), OptionSpecification(name: "wait-ms", takesValue: true),
            OptionSpecification(name: "commit", takesValue: false),
        ],
        readsOutput: true
    ) { invocation in
        let arguments = invocation.arguments
        let values = try arguments.exactly(["topic name", "subscription name"])
        let maximum = try arguments.integer("max-records", in: 1...Limits.standard.batchRecordsMax)
        let wait = try arguments.unsigned("wait-ms", maximum: Limits.standard.longPollWaitMillisecondsMax) ?? 0
        let client = try invocation.session().client
        let records = try await client.poll(topic: values[0], subscription: values[1], maxRecords: maximum, waitMilliseconds: wait)
        for record in records {
            invocation.console.output(RecordFormat.line(record, partition: record.partition ?? 0, format: invocation.output))
        }
        if arguments.flags.contains("commit") {
            let positions = PartitionOffsets.nextPositions(after: records)
            if !positions.isEmpty { try await client.commit(topic: values[0], subscription: values[1], positions: positions) }
        }
    }

    static let commit = ServerSubcommand(
        name: "commit", usage: "momctl subscription commit TOPIC NAME --offsets P:OFFSET[,P:OFFSET…]",
        details: "Commits the cursor: each OFFSET is the next one to read in partition P (the last processed + 1).",
        options: [OptionSpecification(name: "offsets", takesValue: true)]
    ) { invocation in
        let values = try invocation.arguments.exactly(["topic name", "subscription name"])
        let positions = try PartitionOffsets.parse(try invocation.arguments.required("offsets"))
        try await invocation.session().client.commit(topic: values[0], subscription: values[1], positions: positions)
        invocation.console.output("committed \(positions.count) partition\(positions.count == 1 ? "" : "s") of subscription '\(values[1])'")
    }
}

/// `P:OFFSET` lists for `subscription commit`, and the positions to commit after a poll. Pure.
enum PartitionOffsets {
    static func parse(_ text: String) throws(UsageError) -> [RecordPosition] {
        var positions: [RecordPosition] = []
        var seen = Set<Int>()
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            guard pieces.count == 2, let partition = Int(pieces[0]), partition >= 0,
                  partition < Limits.standard.partitionsPerResourceMax, let offset = UInt64(pieces[1])
            else {
                throw UsageError(message: "--offsets takes P:OFFSET[,P:OFFSET…], e.g. 0:120,1:98; got '\(Dispatcher.printable(String(part)))'")
            }
            guard seen.insert(partition).inserted else { throw UsageError(message: "--offsets names partition \(partition) twice") }
            positions.append(RecordPosition(partition: partition, offset: Offset(offset)))
        }
        return positions
    }

    /// Per partition, the offset after the highest record polled: what to commit.
    static func nextPositions(after records: [FetchedRecord]) -> [RecordPosition] {
        var next: [Int: UInt64] = [:]
        for record in records {
            let partition = record.partition ?? 0
            next[partition] = max(next[partition] ?? 0, record.offset.rawValue + 1)
        }
        return next.keys.sorted().map { RecordPosition(partition: $0, offset: Offset(next[$0]!)) }
    }
}

/// How a subscription's cursor prints. Pure.
enum SubscriptionFormat {
    static func table(_ info: SubscriptionInfo) -> Table {
        var table = Table(["PARTITION", "COMMITTED", "HIGH-WATERMARK", "LAG"])
        for partition in info.partitions.sorted(by: { $0.partition < $1.partition }) {
            table.append(["\(partition.partition)", "\(partition.committedOffset.rawValue)", "\(partition.highWatermark.rawValue)", "\(partition.lag)"])
        }
        table.append(["total", "", "", "\(info.totalLag)"])
        return table
    }

    static func json(_ info: SubscriptionInfo) -> [String: Any] {
        [
            "name": info.name, "topic": info.topic, "total_lag": info.totalLag,
            "partitions": info.partitions.map {
                ["partition": $0.partition, "committed_offset": $0.committedOffset.rawValue,
                 "high_watermark": $0.highWatermark.rawValue, "lag": $0.lag] as [String: Any]
            },
        ]
    }
}
