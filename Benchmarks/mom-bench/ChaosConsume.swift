import Glibc
import HTTPServer
import HistoryChecker
import SystemIO

extension ChaosLoad {
    /// Records asked for per fetch, and the long-poll wait.
    static let fetchRecordsMax = 200
    static let fetchWaitMilliseconds = 300
    /// Fetches per consumer, an upper bound besides the time bounds.
    static let fetchesPerConsumerMax = 1_000_000

    /// One consumer: reads partition `index mod partitions` from offset 0 by offset, starting on
    /// a node other than producer `index`'s, moving to the next node after any failure. Stops
    /// once draining and past the highest acknowledged offset, or at the drain deadline.
    func consume(index: Int, count: SharedCounter) {
        let partition = index % options.partitions
        let process = 1_000 + index
        let client = ChaosClient(servers: options.servers, first: index + 1, headers: options.headers, timeoutMilliseconds: options.requestTimeoutMilliseconds)
        var position: UInt64 = 0
        var drainDeadline: UInt64?
        for _ in 0..<Self.fetchesPerConsumerMax {
            if draining.load(ordering: .acquiring) {
                let now = clock.monotonicNanoseconds()
                if drainDeadline == nil { drainDeadline = now + UInt64(options.drainSeconds * 1e9) }
                if position >= acknowledgedEnds[partition].current || now >= drainDeadline! { break }
            } else if !producing.load(ordering: .acquiring) && options.healedFile == nil {
                // No heal marker to wait for: drain right away.
                draining.store(true, ordering: .releasing)
            }
            let target = "/v1/topics/\(options.topic)/partitions/\(partition)/records?offset=\(position)&max_records=\(Self.fetchRecordsMax)&wait_ms=\(Self.fetchWaitMilliseconds)"
            var invoke = event(.invoke, "fetch", process: process, node: client.node, partition: partition)
            invoke.offset = position
            history.append(invoke)
            var done = invoke
            done.timeNanoseconds = nil
            do {
                let response = try client.send(.get, target)
                guard response.status.code == 200 else {
                    done.type = ChaosOutcome.classify(status: response.status.code) == .fail ? .fail : .info
                    done.error = ChaosOutcome.errorText(response)
                    history.append(done)
                    client.rotate()
                    usleep(100_000)
                    continue
                }
                let page = try JSONValue(parsing: response.body)
                let records = (page["records"]?.arrayValue ?? []).compactMap { record -> ReadRecord? in
                    guard let offset = record["offset"]?.uint64Value, let value = record["value"]?.stringValue else { return nil }
                    return ReadRecord(offset: offset, value: value)
                }
                done.type = .ok
                done.records = records
                done.nextOffset = page["next_offset"]?.uint64Value
                done.highWatermark = page["high_watermark"]?.uint64Value
                history.append(done)
                count.add(records.count)
                position = max(position, done.nextOffset ?? position)
            } catch {
                done.type = .info
                done.error = "\(error)"
                history.append(done)
                client.rotate()
                usleep(100_000)
            }
        }
    }
}
