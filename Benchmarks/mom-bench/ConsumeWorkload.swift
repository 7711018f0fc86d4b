import HTTPServer
import MOMCore
import SystemIO

/// `mom-bench consume`: pull everything already in the topic, like the NATS kit's pull consume
/// (batch 1000): `GET /v1/topics/{t}/partitions/{p}/records?offset=N&max_records=B`, continuing
/// from `next_offset`, from the log start up to the high watermark seen when the run starts
/// (or `--messages` records, whichever comes first). One thread per partition, at most
/// `--concurrency` threads. Records are counted by scanning the body, not by building a JSON
/// tree (the NATS Go client does not parse JSON either).
struct ConsumeWorkload {
    let options: BenchOptions

    func run() throws -> BenchReport {
        let endpoints = try RestEndpoints(options: options)
        let setup = try endpoints.session(index: 0)
        let topic = try TopicState.describe(setup, topic: options.topic)
        let clientNode = try setup.nodeID()
        // Offsets may have gaps (Raft entries that carry no record), so this is an upper bound.
        let available = Int(zip(topic.highWatermarks, topic.logStartOffsets).reduce(0) { $0 + ($1.0 - min($1.0, $1.1)) })
        let total = min(options.messages, available)
        let drained = SharedCounter()
        let threads = max(1, min(options.concurrency, topic.highWatermarks.count))
        let shared = WorkerShared(durationSeconds: options.durationSeconds)
        let options = self.options
        let seconds = runWorkers(count: threads, shared: shared, progressLabel: "consume", total: total) { index in
            do {
                let session = try endpoints.session(index: index)
                var histogram = LatencyHistogram()
                defer { shared.merge(histogram) }
                for partition in stride(from: index, to: topic.highWatermarks.count, by: threads) {
                    let end = try Self.drain(partition: partition, from: topic.logStartOffsets[partition], until: topic.highWatermarks[partition], total: total, options: options, session: session, shared: shared, histogram: &histogram)
                    if end >= topic.highWatermarks[partition] { drained.add() }
                }
            } catch {
                shared.fail(error)
            }
        }
        let messages = shared.completed.load(ordering: .relaxed)
        var report = BenchReport()
        report.set("workload", "consume")
        report.set("messages", messages)
        report.set("size", options.size)
        report.set("batch", options.batch)
        report.set("concurrency", threads)
        report.set("seconds", seconds)
        report.set("msgs_per_s", Double(messages) / seconds)
        report.set("mb_per_s", Double(messages * options.size) / 1e6 / seconds)
        report.setLatency(shared.histogram)
        report.set("latency_of", options.prefetch ? "one fetch, from its write to its whole answer (the next one is written when its head arrives)" : "one fetch request")
        report.set("prefetch", options.prefetch)
        report.setPlacement(clientNode: clientNode, server: setup.address, topic: topic)
        report.set("errors", shared.failures.load(ordering: .relaxed))
        if let error = shared.error { report.set("first_error", error) }
        report.set("partitions_drained", drained.current)
        // Complete: every partition read up to its starting high watermark, or --messages read.
        report.set("complete", messages >= options.messages || drained.current == topic.highWatermarks.count)
        return report
    }

    /// Fetches one partition from its log start up to `highWatermark`, bounded by the shared total,
    /// the deadline, and the drain's caps on retries and stalls.
    static func drain(
        partition: Int, from logStartOffset: UInt64, until highWatermark: UInt64, total: Int, options: BenchOptions, session: RestSession,
        shared: WorkerShared, histogram: inout LatencyHistogram
    ) throws -> UInt64 {
        let maxBytes = min(options.batch * (options.size + 256), 32 << 20)
        let prefix = "/v1/topics/\(options.topic)/partitions/\(partition)/records?max_records=\(options.batch)&max_bytes=\(maxBytes)&wait_ms=0&offset="
        let drain = PrefetchingDrain(
            partition: partition, target: { prefix + String($0) }, headers: options.binary ? session.binaryHeaders : session.headers,
            highWatermark: highWatermark, binary: options.binary, prefetch: options.prefetch,
            shouldContinue: { !shared.pastDeadline && shared.completed.load(ordering: .relaxed) < total }, clock: SystemClock())
        var pages = LatencyHistogram()
        defer { histogram.merge(pages) }
        return try drain.run(from: logStartOffset, on: session.client) { records, nanoseconds in
            pages.record(nanoseconds: nanoseconds)
            shared.completed.wrappingAdd(records, ordering: .relaxed)
        }
    }
}

/// The markers of a fetch answer (`PartitionReads.json` writes `{"offset":` first in each record).
enum FetchScan {
    static let recordStart = Array("{\"offset\":".utf8)
    static let nextOffsetKey = Array("\"next_offset\":".utf8)
    static let valueStart = Array("\"value\":\"".utf8)

    /// Records and `next_offset` of a JSON fetch answer, by byte scans.
    static func jsonCounts(_ body: [UInt8]) -> (records: Int, nextOffset: UInt64?) {
        (BodyScan.occurrences(of: recordStart, in: body), BodyScan.lastInteger(after: nextOffsetKey, in: body))
    }

    /// Records and `next_offset` of a binary fetch answer, from its header alone (magic,
    /// version, kind, flags, next_offset, high_watermark, log_start_offset, count): the client
    /// spends no CPU on the values, as with the JSON scans.
    static func binaryHeader(_ body: [UInt8]) -> (records: Int, nextOffset: UInt64?) {
        body.withUnsafeBytes { raw -> (Int, UInt64?) in
            var reader = BinaryReader(raw)
            guard (try? reader.skip(7)) != nil, raw.count > 7, raw[5] == RecordBatchFormat.Kind.fetch.rawValue,
                  let next = try? reader.readVarint(), (try? reader.readVarint()) != nil, (try? reader.readVarint()) != nil,
                  let count = try? reader.readVarint(), count <= UInt64(Int.max)
            else { return (0, nil) }
            return (Int(count), next)
        }
    }
}
