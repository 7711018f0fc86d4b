import HTTPServer
import SystemIO

/// `mom-bench e2e`: the time from a produce request leaving the client to a consumer
/// long-polling the same record back (`wait_ms`). Producers (`--concurrency` threads, closed
/// loop or `--rate`) stamp each value's first 16 bytes with the send time in hex (monotonic ns;
/// producers and consumers share the process, so the clocks agree). One consumer thread per
/// partition starts at the high watermark seen before producing. `msgs_per_s` is the consumed
/// rate; the latency percentiles are end to end per record.
struct EndToEndWorkload {
    let options: BenchOptions

    func run() throws -> BenchReport {
        let endpoints = try RestEndpoints(options: options)
        let setup = try endpoints.session(index: 0)
        let topic = try TopicState.ensure(setup, options: options)
        let clientNode = try setup.nodeID()
        let producers = WorkerShared(durationSeconds: options.durationSeconds)
        let consumers = WorkerShared(durationSeconds: options.durationSeconds)
        let requestsTotal = (options.messages + options.batch - 1) / options.batch
        let partitions = topic.highWatermarks.count
        let options = self.options
        let seconds = runWorkers(count: options.concurrency + partitions, shared: consumers, progressLabel: "e2e (consumed)", total: options.messages) { index in
            do {
                if index < partitions {
                    try Self.consume(partition: index, from: topic.highWatermarks[index], options: options, endpoints: endpoints, shared: consumers, producers: producers)
                } else {
                    try Self.produce(index: index, options: options, endpoints: endpoints, shared: producers, requestsTotal: requestsTotal)
                }
            } catch {
                (index < partitions ? consumers : producers).fail(error)
            }
            // Consumers stop once every producer is done and all it produced was consumed.
            if index >= partitions { producers.finishedWorkers.wrappingAdd(1, ordering: .releasing) }
        }
        let messages = consumers.completed.load(ordering: .relaxed)
        var report = BenchReport()
        report.set("workload", "e2e")
        report.set("messages", messages)
        report.set("produced", producers.completed.load(ordering: .relaxed))
        report.set("size", options.size)
        report.set("batch", options.batch)
        report.set("concurrency", options.concurrency)
        report.set("mode", options.ratePerSecond == nil ? "closed" : "open")
        if let rate = options.ratePerSecond { report.set("target_msgs_per_s", rate) }
        report.set("seconds", seconds)
        report.set("msgs_per_s", Double(messages) / seconds)
        report.set("mb_per_s", Double(messages * options.size) / 1e6 / seconds)
        report.setLatency(consumers.histogram)
        report.set("latency_of", "produce send until a consumer fetched the record")
        report.setLatency(producers.histogram, prefix: "produce_")
        report.setPlacement(clientNode: clientNode, server: setup.address, topic: topic)
        report.set("errors", producers.failures.load(ordering: .relaxed) + consumers.failures.load(ordering: .relaxed))
        if let error = producers.error ?? consumers.error { report.set("first_error", error) }
        report.set("complete", messages == options.messages)
        return report
    }

    static func produce(index: Int, options: BenchOptions, endpoints: RestEndpoints, shared: WorkerShared, requestsTotal: Int) throws {
        let session = try endpoints.session(index: index)
        let target = "/v1/topics/\(options.topic)/records"
        let clock = SystemClock()
        let filler = PayloadAlphabet.value(size: max(0, options.size - 16), seed: index)
        var histogram = LatencyHistogram()
        defer { shared.merge(histogram) }
        // Bounded by requestsTotal and by the deadline.
        while !shared.pastDeadline {
            let request = shared.claimed.wrappingAdd(1, ordering: .relaxed).oldValue
            guard request < requestsTotal else { return }
            let count = min(options.batch, options.messages - request * options.batch)
            var began = clock.monotonicNanoseconds()
            if let rate = options.ratePerSecond {
                began = shared.startNanoseconds + UInt64(Double(request * options.batch) / rate * 1e9)
                sleep(untilMonotonicNanoseconds: began)
            }
            let body = Self.body(count: count, stamp: began, filler: filler)
            let response = try session.send(.post, target, body: body, expecting: [200])
            histogram.record(nanoseconds: clock.monotonicNanoseconds() &- began)
            shared.completed.wrappingAdd(count, ordering: .relaxed)
            _ = response
        }
    }

    static func body(count: Int, stamp: UInt64, filler: [UInt8]) -> [UInt8] {
        var value = Array(String(stamp, radix: 16).utf8)
        value = [UInt8](repeating: UInt8(ascii: "0"), count: max(0, 16 - value.count)) + value + filler
        var writer = JSONWriter(reservingCapacity: count * (value.count + 16) + 16)
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

    /// Long-polls one partition from `start`, recording now − stamp per record, until the
    /// consumed total reaches `--messages` (or all the producers managed) or the deadline passes.
    static func consume(
        partition: Int, from start: UInt64, options: BenchOptions, endpoints: RestEndpoints, shared: WorkerShared, producers: WorkerShared
    ) throws {
        let session = try endpoints.session(index: partition, timeoutMilliseconds: UInt64(options.waitMilliseconds) + 30_000)
        let clock = SystemClock()
        var histogram = LatencyHistogram()
        defer { shared.merge(histogram) }
        var offset = start
        func producersDone() -> Bool {
            producers.finishedWorkers.load(ordering: .acquiring) >= options.concurrency
                && shared.completed.load(ordering: .relaxed) >= producers.completed.load(ordering: .relaxed)
        }
        while !shared.pastDeadline && shared.completed.load(ordering: .relaxed) < options.messages && !producersDone() {
            let target = "/v1/topics/\(options.topic)/partitions/\(partition)/records?offset=\(offset)&max_records=1000&wait_ms=\(options.waitMilliseconds)"
            let response = try session.send(.get, target, expecting: [200])
            let now = clock.monotonicNanoseconds()
            let stamps = Self.stamps(in: response.body)
            for stamp in stamps { histogram.record(nanoseconds: now &- stamp) }
            shared.completed.wrappingAdd(stamps.count, ordering: .relaxed)
            if let next = BodyScan.lastInteger(after: FetchScan.nextOffsetKey, in: response.body) { offset = max(offset, next) }
        }
    }

    /// The 16-hex-digit send stamps at the start of each `"value":"…"`.
    static func stamps(in body: [UInt8]) -> [UInt64] {
        var stamps: [UInt64] = []
        let key = FetchScan.valueStart
        var index = 0
        // Bounded by the body length.
        while index + key.count + 16 <= body.count {
            guard body[index] == key[0], Array(body[index..<(index + key.count)]) == key else { index += 1; continue }
            var stamp: UInt64 = 0
            for digit in body[(index + key.count)..<(index + key.count + 16)] {
                let nibble: UInt8 = digit <= 0x39 ? digit &- 0x30 : digit &- 0x57
                stamp = stamp << 4 | UInt64(nibble & 0xF)
            }
            stamps.append(stamp)
            index += key.count + 16
        }
        return stamps
    }
}
