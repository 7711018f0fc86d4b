import Foundation
import MOMClient
import MOMCore

/// `momctl produce TOPIC`: one record per line of standard input.
enum ProduceCommand {
    static let group = ServerCommandGroup.single(command, summary: "publish one record per stdin line to a topic")

    static let command = ServerSubcommand(
        name: "produce",
        usage: "momctl produce TOPIC [--key KEY] [--partition P] [--batch-records N] [--max-line-bytes B] [--output table|json]",
        details: """
            Publishes each line of standard input as one record (the newline, and a CR before it, are
            removed). Lines are sent in batches of up to --batch-records (default 500) and 1 MiB, each
            batch with a producer id and sequence, so a retried batch is never written twice. A line
            longer than --max-line-bytes (default 1048576) stops the command with exit status 1.
            Without --partition, the broker picks hash(key) mod partitions; without a key, each batch
            goes to one partition, chosen from its producer id and sequence.
            Prints how many records went to each partition and their offsets.
            """,
        options: ["key", "partition", "batch-records", "max-line-bytes"].map { OptionSpecification(name: $0, takesValue: true) },
        readsOutput: true,
        run: run)

    static let batchBytesMaximum = 1 << 20

    @Sendable static func run(_ invocation: Invocation) async throws {
        let arguments = invocation.arguments
        let topic = try arguments.single("topic name")
        let limits = Limits.standard
        let key = arguments.values["key"]
        let partition = try arguments.integer("partition", in: 0...(limits.partitionsPerResourceMax - 1))
        let recordsMaximum = try arguments.integer("batch-records", in: 1...limits.batchRecordsMax) ?? 500
        let lineMaximum = try arguments.integer("max-line-bytes", in: 1...limits.recordValueBytesMax) ?? (1 << 20)
        if invocation.options.passwordFromStandardInput {
            throw UsageError(message: "produce reads records from standard input, so it cannot read a password there; "
                + "run 'momctl login' first or set MOM_PASSWORD")
        }
        let client = try invocation.session().client
        var random = SystemRandom()
        let producerID = random.next() >> 1
        var sequence: UInt64 = 0
        var summary = ProduceSummary()
        _ = try await StandardInput.forEachBatch(
            descriptor: invocation.console.inputDescriptor, lineBytesMaximum: lineMaximum,
            recordsMaximum: recordsMaximum, bytesMaximum: batchBytesMaximum
        ) { lines in
            let records = lines.map { OutgoingRecord(key: key.map { Array($0.utf8) }, value: $0, partition: partition) }
            let positions = try await client.publish(
                topic: topic, records: records, producer: ProducerSequence(producerID: producerID, sequence: sequence))
            sequence += 1
            summary.add(positions)
        }
        switch invocation.output {
        case .table: invocation.console.output(summary.text(topic: topic))
        case .json: invocation.console.output(JSONOutput.render(summary.json(topic: topic)))
        }
    }
}

/// Offsets written per partition, for the line `produce` prints. Pure.
struct ProduceSummary: Sendable, Equatable {
    struct Range: Sendable, Equatable {
        var first: UInt64
        var last: UInt64
        var count: Int
    }

    private(set) var partitions: [Int: Range] = [:]
    var total: Int { partitions.values.reduce(0) { $0 + $1.count } }

    mutating func add(_ positions: [RecordPosition]) {
        for position in positions {
            let offset = position.offset.rawValue
            if var range = partitions[position.partition] {
                range.first = min(range.first, offset)
                range.last = max(range.last, offset)
                range.count += 1
                partitions[position.partition] = range
            } else {
                partitions[position.partition] = Range(first: offset, last: offset, count: 1)
            }
        }
    }

    /// "produced 3 records to topic 'orders': partition 0 offsets 0-1, partition 2 offset 7"
    func text(topic: String) -> String {
        let noun = total == 1 ? "record" : "records"
        guard !partitions.isEmpty else { return "produced 0 records to topic '\(topic)' (standard input was empty)" }
        let parts = partitions.keys.sorted().map { partition -> String in
            let range = partitions[partition]!
            return range.first == range.last
                ? "partition \(partition) offset \(range.first)"
                : "partition \(partition) offsets \(range.first)-\(range.last)"
        }
        return "produced \(total) \(noun) to topic '\(topic)': " + parts.joined(separator: ", ")
    }

    func json(topic: String) -> [String: Any] {
        [
            "topic": topic, "records": total,
            "partitions": partitions.keys.sorted().map { partition -> [String: Any] in
                let range = partitions[partition]!
                return ["partition": partition, "records": range.count, "first_offset": range.first, "last_offset": range.last]
            },
        ]
    }
}
