import Glibc
import HTTPServer
import HistoryChecker
import MOMCore
import SystemIO

/// The queue half of `chaos-load` (`--queue NAME`): senders enqueue unique values, receivers
/// receive and acknowledge (leaving one delivery in ten unacknowledged, so redelivery after
/// the ack timeout and dead-lettering happen), all recorded as history lines the checker's
/// queue checks read. Written against the REST contract of DESIGN.md §4; see docs/chaos.md
/// for its test status.
extension ChaosLoad {
    static let queueAckTimeoutMilliseconds = 3_000
    static let queueReceiveMessagesMax = 10

    /// Creates the queue (bounded retries) and records its `max_deliveries` in a config line.
    func createQueue(_ queue: String) throws {
        let client = ChaosClient(servers: options.servers, first: 0, headers: options.headers, timeoutMilliseconds: options.requestTimeoutMilliseconds)
        let body = Array(#"{"name":"\#(queue)","partitions":\#(options.partitions),"replication_factor":\#(options.replicationFactor),"ack_timeout_ms":\#(Self.queueAckTimeoutMilliseconds),"max_deliveries":\#(options.queueMaxDeliveries)}"#.utf8)
        for attempt in 0..<300 {
            if let response = try? client.send(.post, "/v1/queues", body: body), [201, 409].contains(response.status.code) {
                var config = HistoryEvent(type: .config)
                config.queue = queue
                config.queueMaxDeliveries = options.queueMaxDeliveries
                history.append(config)
                return
            }
            if attempt % 5 == 4 { client.rotate() }
            usleep(200_000)
        }
        throw BenchNetworkError(description: "queue '\(queue)' could not be created within 60 s")
    }

    /// One sender: one message per request; an unknown outcome is retried (the same value), so
    /// a message may be stored twice, which at-least-once allows.
    func enqueue(_ queue: String, index: Int, until deadline: UInt64) {
        let client = ChaosClient(servers: options.servers, first: index, headers: options.headers, timeoutMilliseconds: options.requestTimeoutMilliseconds)
        for sequence in 0..<options.operationsPerProducerMax where clock.monotonicNanoseconds() < deadline {
            let value = "q\(index)-s\(sequence)"
            let body = Array(#"{"messages":[{"value":"\#(value)"}]}"#.utf8)
            for attempt in 0..<Self.attemptsPerWriteMax {
                var invoke = HistoryEvent(type: .invoke)
                invoke.f = "enqueue"
                invoke.process = 2_000 + index
                invoke.node = client.node
                invoke.queue = queue
                invoke.value = value
                history.append(invoke)
                var done = invoke
                done.timeNanoseconds = nil
                do {
                    let response = try client.send(.post, "/v1/queues/\(queue)/messages", body: body)
                    let outcome = ChaosOutcome.classify(status: response.status.code)
                    done.type = outcome == .ok ? .ok : outcome == .fail ? .fail : .info
                    if outcome != .ok { done.error = ChaosOutcome.errorText(response) }
                } catch {
                    done.type = .info
                    done.error = "\(error)"
                }
                history.append(done)
                if done.type != .info { break }
                client.rotate()
                usleep(UInt32(min(50_000 * (attempt + 1), 500_000)))
            }
        }
    }

    /// One receiver: receive, then acknowledge nine deliveries in ten. Stops once draining and
    /// the queue stayed empty for two ack timeouts, or at the drain deadline.
    func receive(_ queue: String, index: Int) {
        let client = ChaosClient(servers: options.servers, first: index + 1, headers: options.headers, timeoutMilliseconds: options.requestTimeoutMilliseconds)
        var random = SeededRandom(seed: options.seed &+ UInt64(index) &+ 77)
        var drainDeadline: UInt64?
        var lastDelivery = clock.monotonicNanoseconds()
        for _ in 0..<Self.fetchesPerConsumerMax {
            let now = clock.monotonicNanoseconds()
            if draining.load(ordering: .acquiring) {
                if drainDeadline == nil { drainDeadline = now + UInt64(options.drainSeconds * 1e9) }
                let quietNanoseconds = UInt64(2 * Self.queueAckTimeoutMilliseconds) * 1_000_000
                if now >= drainDeadline! || now - lastDelivery > quietNanoseconds { break }
            }
            let messages = receiveOnce(queue, client: client, process: 3_000 + index)
            guard !messages.isEmpty else { continue }
            lastDelivery = clock.monotonicNanoseconds()
            let acknowledged = messages.filter { _ in random.next() % 10 != 0 }.map(\.receipt)
            if !acknowledged.isEmpty { ack(queue, receipts: acknowledged, client: client, process: 3_000 + index) }
        }
    }

    private func receiveOnce(_ queue: String, client: ChaosClient, process: Int) -> [QueueDelivery] {
        var invoke = HistoryEvent(type: .invoke)
        invoke.f = "receive"
        invoke.process = process
        invoke.node = client.node
        invoke.queue = queue
        history.append(invoke)
        var done = invoke
        done.timeNanoseconds = nil
        let body = Array(#"{"max_messages":\#(Self.queueReceiveMessagesMax),"wait_ms":300}"#.utf8)
        do {
            let response = try client.send(.post, "/v1/queues/\(queue)/receive", body: body)
            guard response.status.code == 200 else {
                done.type = ChaosOutcome.classify(status: response.status.code) == .fail ? .fail : .info
                done.error = ChaosOutcome.errorText(response)
                history.append(done)
                client.rotate()
                usleep(100_000)
                return []
            }
            let messages = (try JSONValue(parsing: response.body))["messages"]?.arrayValue ?? []
            done.messages = messages.compactMap { message in
                guard let receipt = message["receipt"]?.stringValue, let partition = message["partition"]?.int64Value,
                      let offset = message["offset"]?.uint64Value, let value = message["value"]?.stringValue else { return nil }
                return QueueDelivery(receipt: receipt, partition: Int(partition), offset: offset, value: value,
                                     deliveryCount: Int(message["delivery_count"]?.int64Value ?? 0))
            }
            done.type = .ok
            history.append(done)
            return done.messages ?? []
        } catch {
            done.type = .info
            done.error = "\(error)"
            history.append(done)
            client.rotate()
            usleep(100_000)
            return []
        }
    }

    private func ack(_ queue: String, receipts: [String], client: ChaosClient, process: Int) {
        var invoke = HistoryEvent(type: .invoke)
        invoke.f = "ack"
        invoke.process = process
        invoke.node = client.node
        invoke.queue = queue
        invoke.receipts = receipts
        history.append(invoke)
        var done = invoke
        done.timeNanoseconds = nil
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("receipts")
        writer.beginArray()
        for receipt in receipts { writer.string(receipt) }
        writer.endArray()
        writer.endObject()
        do {
            let response = try client.send(.post, "/v1/queues/\(queue)/ack", body: writer.bytes)
            let outcome = ChaosOutcome.classify(status: response.status.code)
            done.type = outcome == .ok ? .ok : outcome == .fail ? .fail : .info
            if outcome != .ok { done.error = ChaosOutcome.errorText(response) }
        } catch {
            done.type = .info
            done.error = "\(error)"
            client.rotate()
        }
        history.append(done)
    }

    /// After draining: every value left in `<queue>.dead-letter`, as a `final_queue` line.
    func drainDeadLetters(_ queue: String) {
        let client = ChaosClient(servers: options.servers, first: 0, headers: options.headers, timeoutMilliseconds: options.requestTimeoutMilliseconds)
        var line = HistoryEvent(type: .finalQueue)
        line.queue = queue
        var values: [String] = []
        var emptyInARow = 0
        // Bounded: 10,000 receives at most, and 3 empty answers in a row end it.
        for _ in 0..<10_000 where emptyInARow < 3 {
            let body = Array(#"{"max_messages":100,"wait_ms":200}"#.utf8)
            guard let response = try? client.send(.post, "/v1/queues/\(queue).dead-letter/receive", body: body), response.status.code == 200,
                  let messages = (try? JSONValue(parsing: response.body))?["messages"]?.arrayValue else {
                emptyInARow += 1
                client.rotate()
                continue
            }
            emptyInARow = messages.isEmpty ? emptyInARow + 1 : 0
            values += messages.compactMap { $0["value"]?.stringValue }
        }
        line.deadLetters = values
        history.append(line)
    }
}
