import Glibc
import HTTPServer
import HistoryChecker
import Synchronization
import SystemIO

/// `mom-bench chaos-load`: the client side of a fault campaign (docs/chaos.md). Idempotent
/// producers (producer id + sequence, one record per request, explicit partition, retried with
/// the same id and sequence through another node on unknown outcomes) and consumers reading
/// one partition each by offset through a node other than the producers', all recorded as a
/// history. Producing stops at `--duration`; consumers then wait for the heal marker file and
/// drain to the highest acknowledged offset, bounded by `--drain`.
final class ChaosLoad: @unchecked Sendable {
    let options: ChaosOptions
    let history: HistoryWriter
    /// Highest acknowledged offset per partition (+1), the consumers' drain target.
    let acknowledgedEnds: [SharedHighest]
    let producing = Atomic<Bool>(true)
    let draining = Atomic<Bool>(false)
    let clock = SystemClock()

    static let attemptsPerWriteMax = 8

    init(options: ChaosOptions, history: HistoryWriter) {
        self.options = options
        self.history = history
        self.acknowledgedEnds = (0..<options.partitions).map { _ in SharedHighest() }
    }

    static func main(_ arguments: [String]) -> Int32 {
        let options: ChaosOptions
        do {
            options = try ChaosOptions.parse(arguments)
            guard !options.servers.isEmpty, options.historyPath != nil else { throw ChaosOptions.UsageError(description: "needs --servers and --history") }
        } catch {
            writeError("mom-bench chaos-load: \(error)\n\(ChaosOptions.usage)\n")
            return 2
        }
        do {
            let load = ChaosLoad(options: options, history: try HistoryWriter(path: options.historyPath!))
            return try load.run()
        } catch {
            writeError("mom-bench chaos-load: \(error)\n")
            return 1
        }
    }

    private func run() throws -> Int32 {
        try createTopic()
        if let queue = options.queue { try createQueue(queue) }
        // The nemesis starts once the topic serves: a campaign that faults its own set-up
        // measures nothing.
        if let marker = options.readyFile { Glibc.close(creat(marker, 0o644)) }
        let produced = SharedCounter()
        let consumed = SharedCounter()
        let deadline = clock.monotonicNanoseconds() + UInt64(options.durationSeconds * 1e9)
        var threads: [OSThread] = []
        for index in 0..<options.producers {
            threads.append(OSThread.start(name: "chaos-producer-\(index)") { [self] in produce(index: index, until: deadline, count: produced) })
        }
        var queueThreads: [OSThread] = []
        if let queue = options.queue {
            for index in 0..<2 {
                threads.append(OSThread.start(name: "chaos-sender-\(index)") { [self] in enqueue(queue, index: index, until: deadline) })
                queueThreads.append(OSThread.start(name: "chaos-receiver-\(index)") { [self] in receive(queue, index: index) })
            }
        }
        let writers = threads.count
        for index in 0..<options.consumers {
            threads.append(OSThread.start(name: "chaos-consumer-\(index)") { [self] in consume(index: index, count: consumed) })
        }
        for thread in threads.prefix(writers) { thread.join() }
        producing.store(false, ordering: .releasing)
        say("chaos-load: producing stopped after \(produced.current) acknowledged writes; waiting for the heal marker")
        waitForHeal()
        draining.store(true, ordering: .releasing)
        for thread in threads.dropFirst(writers) + queueThreads { thread.join() }
        if let queue = options.queue { drainDeadLetters(queue) }
        say("chaos-load: done: \(produced.current) writes acknowledged, \(consumed.current) records read")
        return 0
    }

    private func waitForHeal() {
        guard let marker = options.healedFile else { return }
        let giveUp = clock.monotonicNanoseconds() + UInt64(options.healWaitSeconds * 1e9)
        // Bounded by --heal-wait.
        while access(marker, F_OK) != 0 && clock.monotonicNanoseconds() < giveUp { usleep(100_000) }
    }

    /// Creates the topic through any node that answers (bounded), and waits for its leaders.
    private func createTopic() throws {
        let client = ChaosClient(servers: options.servers, first: 0, headers: options.headers, timeoutMilliseconds: options.requestTimeoutMilliseconds)
        let body = Array(#"{"name":"\#(options.topic)","partitions":\#(options.partitions),"replication_factor":\#(options.replicationFactor)}"#.utf8)
        for attempt in 0..<600 {
            if let response = try? client.send(.post, "/v1/topics", body: body), [201, 409].contains(response.status.code) {
                if partitionsWithLeaders() == options.partitions { return }
            } else if attempt % 5 == 4 {
                client.rotate()
            }
            usleep(200_000)
        }
        throw BenchNetworkError(description: "topic '\(options.topic)' was not ready with leaders after 120 s")
    }

    /// How many partitions some node reports a leader for. Each node is asked, because a node
    /// reports the leader only of partitions it holds a replica of (docs/chaos.md, Findings).
    private func partitionsWithLeaders() -> Int {
        var led: Set<Int> = []
        for index in options.servers.indices {
            let client = ChaosClient(servers: options.servers, first: index, headers: options.headers, timeoutMilliseconds: options.requestTimeoutMilliseconds)
            guard let described = try? client.send(.get, "/v1/topics/\(options.topic)"), described.status.code == 200,
                  let partitions = (try? JSONValue(parsing: described.body))?["partitions"]?.arrayValue else { continue }
            for partition in partitions where (partition["leader"]?.int64Value ?? -1) > 0 {
                if let number = partition["partition"]?.int64Value { led.insert(Int(number)) }
            }
        }
        return led.count
    }

    func event(_ type: HistoryEvent.EventType, _ f: String, process: Int, node: Int, partition: Int) -> HistoryEvent {
        var event = HistoryEvent(type: type)
        event.f = f
        event.process = process
        event.node = node
        event.topic = options.topic
        event.partition = partition
        return event
    }

    /// One producer: each sequence number is one record; unknown outcomes are retried with the
    /// same producer id and sequence (idempotent), bounded by `attemptsPerWriteMax`.
    private func produce(index: Int, until deadline: UInt64, count: SharedCounter) {
        let client = ChaosClient(servers: options.servers, first: index, headers: options.headers, timeoutMilliseconds: options.requestTimeoutMilliseconds)
        let producerID = options.seed * 1_000 + UInt64(index) + 1
        for sequence in 0..<UInt64(options.operationsPerProducerMax) where clock.monotonicNanoseconds() < deadline {
            let partition = Int((sequence + UInt64(index)) % UInt64(options.partitions))
            let value = "p\(index)-s\(sequence)"
            let body = Array(#"{"records":[{"value":"\#(value)"}],"producer_id":\#(producerID),"sequence":\#(sequence)}"#.utf8)
            for attempt in 0..<Self.attemptsPerWriteMax {
                var invoke = event(.invoke, "produce", process: index, node: client.node, partition: partition)
                invoke.value = value
                invoke.producerID = producerID
                invoke.sequence = sequence
                history.append(invoke)
                var done = invoke
                done.timeNanoseconds = nil
                let outcome: HistoryEventTypeName
                do {
                    let response = try client.send(.post, "/v1/topics/\(options.topic)/partitions/\(partition)/records", body: body)
                    outcome = ChaosOutcome.classify(status: response.status.code)
                    if outcome == .ok {
                        guard let offset = (try? JSONValue(parsing: response.body))?["offsets"]?.arrayValue?.first?["offset"]?.uint64Value else {
                            done.type = .info
                            done.error = "200 without an offset: \(ChaosOutcome.errorText(response))"
                            history.append(done)
                            continue
                        }
                        done.offset = offset
                        acknowledgedEnds[partition].raise(to: offset + 1)
                        count.add()
                    } else {
                        done.error = ChaosOutcome.errorText(response)
                    }
                } catch {
                    outcome = .info
                    done.error = "\(error)"
                }
                done.type = outcome == .ok ? .ok : outcome == .fail ? .fail : .info
                history.append(done)
                if outcome != .info { break }
                client.rotate()
                usleep(UInt32(min(50_000 * (attempt + 1), 500_000)))
            }
        }
    }
}

/// A shared "highest value so far" that escaping closures can capture.
final class SharedHighest: Sendable {
    private let value = Atomic<UInt64>(0)
    func raise(to candidate: UInt64) { value.max(candidate, ordering: .relaxed) }
    var current: UInt64 { value.load(ordering: .relaxed) }
}
