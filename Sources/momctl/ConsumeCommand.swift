import Foundation
import MOMClient
import MOMCore

/// `momctl consume TOPIC --partition P --offset earliest|latest|N [--follow]`.
enum ConsumeCommand {
    static let group = ServerCommandGroup.single(command, summary: "print records of a topic partition, optionally following it")

    static let command = ServerSubcommand(
        name: "consume",
        usage: "momctl consume TOPIC [--partition P] [--offset earliest|latest|N] [--max-records N] [--follow [--wait-ms MS]] [--output table|json]",
        details: """
            Prints records of one partition (default 0) from --offset (default earliest): the value of
            each record on its own line (binary values as base64:…), or with --output json one JSON
            object per line with partition, offset, timestamp_ms, key and value.
            Without --follow it stops at the high watermark it finds (or after --max-records).
            With --follow it keeps long-polling for new records, each request waiting at most
            --wait-ms (default 5000, at most 30000), until interrupted with Ctrl-C (exit status 0).
            """,
        options: [
            OptionSpecification(name: "partition", takesValue: true), OptionSpecification(name: "offset", takesValue: true),
            OptionSpecification(name: "max-records", takesValue: true), OptionSpecification(name: "wait-ms", takesValue: true),
            OptionSpecification(name: "follow", takesValue: false),
        ],
        readsOutput: true,
        run: run)

    /// Records asked for per request.
    static let pageRecords = 500

    @Sendable static func run(_ invocation: Invocation) async throws {
        let arguments = invocation.arguments
        let topic = try arguments.single("topic name")
        let limits = Limits.standard
        let partition = try arguments.integer("partition", in: 0...(limits.partitionsPerResourceMax - 1)) ?? 0
        let start = try OffsetSpecification.parse(arguments.values["offset"] ?? "earliest")
        let recordsMaximum = try arguments.unsigned("max-records")
        let follow = arguments.flags.contains("follow")
        let waitMilliseconds = try arguments.unsigned("wait-ms", maximum: limits.longPollWaitMillisecondsMax) ?? 5_000
        if arguments.values["wait-ms"] != nil, !follow { throw UsageError(message: "--wait-ms applies only with --follow") }
        let client = try invocation.session().client
        let description = try await client.topic(topic)
        guard let bounds = description.partitions.first(where: { $0.partition == partition }) else {
            throw RuntimeFailure(message: "topic '\(topic)' has no partition \(partition); it has partitions 0-\(description.partitions.count - 1)")
        }
        var offset = try start.resolve(logStart: bounds.logStartOffset, highWatermark: bounds.highWatermark)
        if follow { StopSignal.exitOnInterrupt() }
        var printed: UInt64 = 0
        while recordsMaximum.map({ printed < $0 }) ?? true {
            let wanted = min(UInt64(pageRecords), (recordsMaximum ?? UInt64.max) - printed)
            let page = try await client.fetch(
                topic: topic, partition: partition, offset: offset, maxRecords: Int(wanted),
                waitMilliseconds: follow ? waitMilliseconds : 0)
            for record in page.records.prefix(Int(wanted)) {
                invocation.console.output(RecordFormat.line(record, partition: partition, format: invocation.output))
                printed += 1
            }
            let advanced = page.nextOffset.rawValue > offset.rawValue
            offset = Offset(max(offset.rawValue, page.nextOffset.rawValue))
            // Without --follow: stop at the end found now, or when the server makes no progress.
            if !follow && (offset.rawValue >= page.highWatermark.rawValue || !advanced) { break }
        }
    }
}

/// How one fetched record prints. Pure.
enum RecordFormat {
    static func line(_ record: FetchedRecord, partition: Int, format: OutputFormat) -> String {
        switch format {
        case .table:
            // One value per line, so `consume | …` composes with line tools; newlines inside a
            // value are escaped to keep one record per line.
            return JSONOutput.printable(record.value).replacingOccurrences(of: "\n", with: "\\n")
        case .json:
            var object: [String: Any] = [
                "partition": record.partition ?? partition, "offset": record.offset.rawValue,
                "timestamp_ms": record.timestampMilliseconds, "headers": record.headers,
            ]
            object.merge(JSONOutput.bytesFields(record.key, text: "key", base64: "key_base64")) { first, _ in first }
            object.merge(JSONOutput.bytesFields(record.value, text: "value", base64: "value_base64")) { first, _ in first }
            return JSONOutput.render(object)
        }
    }
}
