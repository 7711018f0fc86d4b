import Glibc
import HTTPServer
import MOMCore
import SystemIO

/// `mom-bench produce`: `--messages` records of `--size` bytes through
/// `POST /v1/topics/{t}/records`, `--batch` records per request, `--concurrency` keep-alive
/// connections each with one request in flight (messages in flight = concurrency × batch).
///
/// Closed loop by default: each thread sends its next request when the previous one is acked.
/// With `--rate`, request k is due at start + k·batch/rate and its latency counts from that
/// due time, so a stalled server shows up as latency instead of being hidden by the client
/// waiting (coordinated omission). An ack means a majority fdatasync'd the records.
///
/// Matching the NATS kit: async produce is `--concurrency 256 --batch 1` (or C×B = 256);
/// sync produce is `--concurrency 1 --batch 1` (one message, wait for its ack, repeat).
/// Values are printable ASCII sent as `"value"` (JSON text, no base64 on either side).
struct ProduceWorkload {
    let options: BenchOptions

    func run() throws -> BenchReport {
        let endpoints = try RestEndpoints(options: options)
        let setup = try endpoints.session(index: 0)
        let topic = try TopicState.ensure(setup, options: options)
        let clientNode = try setup.nodeID()
        let shared = WorkerShared(durationSeconds: options.durationSeconds)
        let requestsTotal = (options.messages + options.batch - 1) / options.batch
        let options = self.options
        let seconds = runWorkers(count: options.concurrency, shared: shared, progressLabel: "produce", total: options.messages) { index in
            do {
                try Self.work(index: index, options: options, endpoints: endpoints, shared: shared, requestsTotal: requestsTotal)
            } catch {
                shared.fail(error)
            }
        }
        let messages = shared.completed.load(ordering: .relaxed)
        var report = BenchReport()
        report.set("workload", "produce")
        report.set("messages", messages)
        report.set("size", options.size)
        report.set("batch", options.batch)
        report.set("concurrency", options.concurrency)
        report.set("in_flight_max", options.concurrency * options.batch)
        report.set("mode", options.ratePerSecond == nil ? "closed" : "open")
        if let rate = options.ratePerSecond { report.set("target_msgs_per_s", rate) }
        report.set("seconds", seconds)
        report.set("msgs_per_s", Double(messages) / seconds)
        report.set("mb_per_s", Double(messages * options.size) / 1e6 / seconds)
        report.setLatency(shared.histogram)
        report.set("latency_of", "request (batch) until ack")
        report.set("value_encoding", options.binary ? "binary_batch" : "json_text")
        report.setPlacement(clientNode: clientNode, server: setup.address, topic: topic)
        report.set("errors", shared.failures.load(ordering: .relaxed))
        if let error = shared.error { report.set("first_error", error) }
        report.set("complete", messages == options.messages)
        return report
    }

    /// One thread: claim a request number, pace it (open loop), send, check, record.
    static func work(index: Int, options: BenchOptions, endpoints: RestEndpoints, shared: WorkerShared, requestsTotal: Int) throws {
        let session = try endpoints.session(index: index)
        let target = "/v1/topics/\(options.topic)/records"
        var bodies: [Int: [UInt8]] = [:]
        var histogram = LatencyHistogram()
        defer { shared.merge(histogram) }
        let clock = SystemClock()
        // Bounded by requestsTotal (the shared claim counter) and by the deadline.
        while !shared.pastDeadline {
            let request = shared.claimed.wrappingAdd(1, ordering: .relaxed).oldValue
            guard request < requestsTotal else { return }
            let count = min(options.batch, options.messages - request * options.batch)
            if bodies[count] == nil { bodies[count] = Self.body(count: count, size: options.size, seed: index, binary: options.binary) }
            var began = clock.monotonicNanoseconds()
            if let rate = options.ratePerSecond {
                began = shared.startNanoseconds + UInt64(Double(request * options.batch) / rate * 1e9)
                sleep(untilMonotonicNanoseconds: began)
            }
            let response = try session.send(.post, target, body: bodies[count]!, binary: options.binary, expecting: [200])
            let acked = Self.countOffsets(response.body)
            guard acked == count else { throw BenchNetworkError(description: "sent \(count) records, the ack lists \(acked) offsets") }
            histogram.record(nanoseconds: clock.monotonicNanoseconds() &- began)
            shared.completed.wrappingAdd(count, ordering: .relaxed)
        }
    }

    /// `{"records":[{"value":"…"},…]}` (or the same records as a binary batch), built once per
    /// batch size and reused.
    static func body(count: Int, size: Int, seed: Int, binary: Bool = false) -> [UInt8] {
        let value = PayloadAlphabet.value(size: size, seed: seed)
        if binary {
            let record = RecordBatchFormat.Record(value: Array(value))
            return RecordBatchFormat.encode(.init(kind: .produce, records: Array(repeating: record, count: count)))
        }
        var writer = JSONWriter(reservingCapacity: count * (size + 16) + 16)
        writer.beginObject()
        writer.key("records")
        writer.beginArray()
        for _ in 0..<count {
            writer.beginObject()
            writer.key("value")
            writer.utf8String(value)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }

    /// How many `"offset":` keys the ack holds (one per record).
    static func countOffsets(_ body: [UInt8]) -> Int {
        BodyScan.occurrences(of: Array("\"offset\":".utf8), in: body)
    }
}

/// Byte scans over response bodies whose shape mom-bench controls (its own payload alphabet
/// has no quotes or braces), so the client spends its CPU on the network, not on a JSON tree.
enum BodyScan {
    /// How many times `needle` occurs in `body` (non-overlapping). `memchr` finds each candidate
    /// first byte (it was a byte-at-a-time loop, 9 % of all samples of a 1,000-record consume,
    /// more than the serving node's JSON writer).
    static func occurrences(of needle: [UInt8], in body: [UInt8]) -> Int {
        precondition(!needle.isEmpty, "an empty needle")
        var found = 0
        let first = Int32(needle[0])
        body.withUnsafeBufferPointer { bytes in
            guard let base = bytes.baseAddress else { return }
            var index = 0
            // Bounded: each step moves `index` forward by at least one byte.
            while index + needle.count <= bytes.count {
                guard let hit = memchr(base + index, first, bytes.count - needle.count + 1 - index) else { break }
                let position = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
                if matches(needle, bytes, at: position) {
                    found += 1
                    index = position + needle.count
                } else {
                    index = position + 1
                }
            }
        }
        return found
    }

    static func matches(_ needle: [UInt8], _ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Bool {
        for offset in 1..<needle.count where bytes[index + offset] != needle[offset] { return false }
        return true
    }

    /// The unsigned integer after the last `key` (e.g. `"next_offset":`), or nil.
    static func lastInteger(after key: [UInt8], in body: [UInt8]) -> UInt64? {
        guard body.count >= key.count else { return nil }
        var start = body.count - key.count
        // Bounded: walks back at most the body length.
        while start >= 0 {
            if body[start] == key[0] && Array(body[start..<(start + key.count)]) == key { break }
            start -= 1
        }
        guard start >= 0 else { return nil }
        var index = start + key.count
        var value: UInt64 = 0
        var digits = 0
        while index < body.count, body[index] >= 0x30, body[index] <= 0x39, digits < 20 {
            value = value &* 10 &+ UInt64(body[index] - 0x30)
            index += 1
            digits += 1
        }
        return digits > 0 ? value : nil
    }
}
