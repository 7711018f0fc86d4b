import Foundation
import MOMClient
import MOMCore

/// `momctl queue create|list|stats|delete|send|receive|ack|reassign` (DESIGN §4, queues).
enum QueueCommands {
    static let group = ServerCommandGroup.make(
        name: "queue", summary: "manage queues; send, receive and ack messages",
        subcommands: [create, list, stats, delete, send, receive, ack, ReassignCommands.subcommand(kind: "queue")])

    static let create = ServerSubcommand(
        name: "create",
        usage: "momctl queue create NAME [--partitions N] [--replication-factor N] [--ack-timeout-ms MS] [--max-deliveries N]",
        details: "Creates a queue (partitions 3, replication factor 3, ack timeout 30000 ms by default).\n"
            + "With --max-deliveries, a message delivered that many times moves to NAME.dead-letter.",
        options: ["partitions", "replication-factor", "ack-timeout-ms", "max-deliveries"].map { OptionSpecification(name: $0, takesValue: true) }
    ) { invocation in
        let arguments = invocation.arguments
        let name = try arguments.single("queue name")
        let limits = Limits.standard
        let partitions = try arguments.integer("partitions", in: 1...limits.partitionsPerResourceMax) ?? 3
        let replication = try arguments.integer("replication-factor", in: 1...limits.replicationFactorMax) ?? 3
        let ackTimeout = try arguments.unsigned("ack-timeout-ms", maximum: limits.queueAckTimeoutMillisecondsMax) ?? 30_000
        let maxDeliveries = try arguments.integer("max-deliveries", in: 1...limits.queueMaxDeliveriesMax)
        try await invocation.session().client.createQueue(
            name, partitions: partitions, replicationFactor: replication, ackTimeoutMilliseconds: ackTimeout,
            maxDeliveries: maxDeliveries)
        invocation.console.output("created queue '\(name)' with \(partitions) partitions, replication factor \(replication)")
    }

    static let list = ServerSubcommand(
        name: "list", usage: "momctl queue list [--output table|json]", details: "Lists queue names, sorted.", readsOutput: true
    ) { invocation in
        try invocation.arguments.none()
        let names = try await invocation.session().client.listQueues().sorted()
        var table = Table(["QUEUE"])
        for name in names { table.append([name]) }
        invocation.print(table: table, json: ["queues": names])
    }

    static let stats = ServerSubcommand(
        name: "stats", usage: "momctl queue stats NAME [--output table|json]",
        details: "Shows the queue's depth (waiting), in-flight (received, not acked) and dead-lettered counts.",
        readsOutput: true
    ) { invocation in
        let name = try invocation.arguments.single("queue name")
        let stats = try await invocation.session().client.queueStats(name)
        var table = Table(["QUEUE", "DEPTH", "IN-FLIGHT", "DEAD-LETTERED"])
        table.append([stats.name, "\(stats.depth)", "\(stats.inFlight)", "\(stats.deadLettered)"])
        invocation.print(table: table, json: QueueFormat.json(stats))
    }

    static let delete = ServerSubcommand(
        name: "delete", usage: "momctl queue delete NAME", details: "Deletes a queue and its messages. There is no undo."
    ) { invocation in
        let name = try invocation.arguments.single("queue name")
        try await invocation.session().client.deleteQueue(name)
        invocation.console.output("deleted queue '\(name)'")
    }

    static let send = ServerSubcommand(
        name: "send", usage: "momctl queue send NAME [--key KEY] [MESSAGE…]",
        details: "Enqueues each MESSAGE argument, or without arguments each line of standard input\n"
            + "(in batches of up to 1000 lines and 1 MiB; a line over 1 MiB is refused).",
        options: [OptionSpecification(name: "key", takesValue: true)]
    ) { invocation in
        let arguments = invocation.arguments
        guard let name = arguments.positionals.first else { throw UsageError(message: "missing queue name") }
        let key = arguments.values["key"].map { Array($0.utf8) }
        try LineSource.checkInput(invocation, messages: Array(arguments.positionals.dropFirst()))
        let client = try invocation.session().client
        var sent = 0
        try await LineSource.batches(invocation, messages: Array(arguments.positionals.dropFirst())) { values in
            try await client.send(queue: name, messages: values.map { OutgoingRecord(key: key, value: $0) })
            sent += values.count
        }
        invocation.console.output("sent \(sent) message\(sent == 1 ? "" : "s") to queue '\(name)'")
    }

    static let receive = ServerSubcommand(
        name: "receive", usage: "momctl queue receive NAME [--max-messages N] [--wait-ms MS] [--ack] [--output table|json]",
        details: """
            Claims up to --max-messages (default 10) messages, waiting up to --wait-ms (default 1000)
            for the first. Each must be acked with 'momctl queue ack NAME RECEIPT…' within the queue's
            ack timeout or it is delivered again; --ack acks them right after printing.
            """,
        options: [
            OptionSpecification(name: "max-messages", takesValue: true), OptionSpecification(name: "wait-ms", takesValue: true),
            OptionSpecification(name: "ack", takesValue: false),
        ],
        readsOutput: true
    ) { invocation in
        let arguments = invocation.arguments
        let name = try arguments.single("queue name")
        let limits = Limits.standard
        let maximum = try arguments.integer("max-messages", in: 1...limits.queueBatchMessagesMax) ?? 10
        let wait = try arguments.unsigned("wait-ms", maximum: limits.longPollWaitMillisecondsMax) ?? 1_000
        let client = try invocation.session().client
        let messages = try await client.receive(queue: name, maxMessages: maximum, waitMilliseconds: wait)
        invocation.print(table: QueueFormat.table(messages), json: ["messages": messages.map(QueueFormat.json)])
        if arguments.flags.contains("ack") { try await client.ack(queue: name, receipts: messages.map(\.receipt)) }
    }

    static let ack = ServerSubcommand(
        name: "ack", usage: "momctl queue ack NAME RECEIPT…",
        details: "Acknowledges received messages by their receipts, so they are not delivered again."
    ) { invocation in
        let positionals = invocation.arguments.positionals
        guard let name = positionals.first else { throw UsageError(message: "missing queue name") }
        let receipts = Array(positionals.dropFirst())
        if receipts.isEmpty { throw UsageError(message: "missing receipts to ack") }
        try await invocation.session().client.ack(queue: name, receipts: receipts)
        invocation.console.output("acked \(receipts.count) message\(receipts.count == 1 ? "" : "s") of queue '\(name)'")
    }
}

/// How queue answers print. Pure.
enum QueueFormat {
    static func json(_ stats: QueueStats) -> [String: Any] {
        ["name": stats.name, "depth": stats.depth, "in_flight": stats.inFlight, "dead_lettered": stats.deadLettered]
    }

    static func json(_ message: ReceivedMessage) -> [String: Any] {
        var object: [String: Any] = [
            "receipt": message.receipt, "partition": message.partition, "offset": message.offset.rawValue,
            "delivery_count": message.deliveryCount, "headers": message.headers,
        ]
        object.merge(JSONOutput.bytesFields(message.key, text: "key", base64: "key_base64")) { first, _ in first }
        object.merge(JSONOutput.bytesFields(message.value, text: "value", base64: "value_base64")) { first, _ in first }
        return object
    }

    static func table(_ messages: [ReceivedMessage]) -> Table {
        var table = Table(["RECEIPT", "PARTITION", "OFFSET", "DELIVERIES", "VALUE"])
        for message in messages {
            table.append([message.receipt, "\(message.partition)", "\(message.offset.rawValue)", "\(message.deliveryCount)",
                          JSONOutput.printable(message.value)])
        }
        return table
    }
}

/// Message values for `queue send` and `exchange publish`: the arguments, or else the lines of
/// standard input in bounded batches.
enum LineSource {
    static let lineBytesMaximum = 1 << 20

    /// Standard input carries either messages or a password, not both.
    static func checkInput(_ invocation: Invocation, messages: [String]) throws(UsageError) {
        if messages.isEmpty && invocation.options.passwordFromStandardInput {
            throw UsageError(message: "messages come from standard input here, so it cannot also carry a password; "
                + "give messages as arguments, or run 'momctl login' first")
        }
    }

    static func batches(
        _ invocation: Invocation, messages: [String], _ body: ([[UInt8]]) async throws -> Void
    ) async throws {
        let batchMaximum = Limits.standard.queueBatchMessagesMax
        if !messages.isEmpty {
            var start = 0
            while start < messages.count {
                let end = min(start + batchMaximum, messages.count)
                try await body(messages[start..<end].map { Array($0.utf8) })
                start = end
            }
            return
        }
        try checkInput(invocation, messages: messages)
        _ = try await StandardInput.forEachBatch(
            descriptor: invocation.console.inputDescriptor, lineBytesMaximum: lineBytesMaximum,
            recordsMaximum: batchMaximum, bytesMaximum: 1 << 20, body)
    }
}
