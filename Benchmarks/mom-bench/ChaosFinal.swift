import Glibc
import HTTPServer
import HistoryChecker
import MOMCore
import SystemIO

/// `mom-bench chaos-final`: after healing, reads every replica's committed log of the topic with
/// `local=true` (the node's own replica, never forwarded) and appends one `final` history line
/// per (node, partition). Each record carries the CRC32C of its JSON as the replica rendered it
/// (timestamp, key, value, headers), so the checker can tell byte-identical prefixes apart.
/// Before reading, it waits (bounded) until every replica's high watermark reached the highest
/// one seen, so a follower that is still catching up is read after it caught up when it can.
enum ChaosFinal {
    static let pageRecordsMax = 1_000
    static let pagesMax = 100_000
    static let convergeWaitSeconds = 30.0

    static func main(_ arguments: [String]) -> Int32 {
        let options: ChaosOptions
        do {
            options = try ChaosOptions.parse(arguments)
            guard !options.servers.isEmpty, options.historyPath != nil else { throw ChaosOptions.UsageError(description: "needs --servers and --history") }
        } catch {
            writeError("mom-bench chaos-final: \(error)\n\(ChaosOptions.usage)\n")
            return 2
        }
        do {
            let history = try HistoryWriter(path: options.historyPath!)
            let clients = options.servers.enumerated().map { index, _ in
                ChaosClient(servers: [options.servers[index]], first: 0, headers: options.headers, timeoutMilliseconds: 10_000)
            }
            let replicas = try replicaSets(options, clients: clients)
            waitForConvergence(options, clients: clients, replicas: replicas)
            var lines = 0
            for (partition, nodes) in replicas.enumerated() {
                for node in nodes where node >= 1 && node <= clients.count {
                    history.append(read(options, client: clients[node - 1], node: node, partition: partition))
                    lines += 1
                }
            }
            say("chaos-final: read \(lines) replicas of \(replicas.count) partitions")
            return 0
        } catch {
            writeError("mom-bench chaos-final: \(error)\n")
            return 1
        }
    }

    /// The replica set of each partition, as any node describes the topic (bounded retries).
    static func replicaSets(_ options: ChaosOptions, clients: [ChaosClient]) throws -> [[Int]] {
        for attempt in 0..<120 {
            let client = clients[attempt % clients.count]
            if let response = try? client.send(.get, "/v1/topics/\(options.topic)"), response.status.code == 200,
               let partitions = (try? JSONValue(parsing: response.body))?["partitions"]?.arrayValue, !partitions.isEmpty {
                return partitions.map { ($0["replicas"]?.arrayValue ?? []).compactMap { $0.int64Value.map(Int.init) } }
            }
            usleep(500_000)
        }
        throw BenchNetworkError(description: "no node described topic '\(options.topic)' within 60 s")
    }

    /// The high watermark a replica serves locally, or nil when it does not answer.
    static func localHighWatermark(_ options: ChaosOptions, client: ChaosClient, partition: Int) -> UInt64? {
        let target = "/v1/topics/\(options.topic)/partitions/\(partition)/records?offset=0&max_records=1&local=true"
        guard let response = try? client.send(.get, target) else { return nil }
        if response.status.code == 200 { return (try? JSONValue(parsing: response.body))?["high_watermark"]?.uint64Value }
        if response.status.code == 416 {
            // Offset 0 is below the log start: the message names the bounds; ask from the start.
            return nil
        }
        return nil
    }

    static func waitForConvergence(_ options: ChaosOptions, clients: [ChaosClient], replicas: [[Int]]) {
        let deadline = SystemClock().monotonicNanoseconds() + UInt64(convergeWaitSeconds * 1e9)
        while SystemClock().monotonicNanoseconds() < deadline {
            var converged = true
            for (partition, nodes) in replicas.enumerated() {
                let marks = nodes.filter { $0 >= 1 && $0 <= clients.count }.map { localHighWatermark(options, client: clients[$0 - 1], partition: partition) }
                if marks.contains(where: { $0 == nil }) || Set(marks).count > 1 { converged = false }
            }
            if converged { return }
            usleep(500_000)
        }
        say("chaos-final: replicas did not converge within \(Int(convergeWaitSeconds)) s; reading them as they are")
    }

    /// One replica's whole committed log as a `final` line (or the error that stopped it).
    static func read(_ options: ChaosOptions, client: ChaosClient, node: Int, partition: Int) -> HistoryEvent {
        var line = HistoryEvent(type: .final)
        line.node = node
        line.topic = options.topic
        line.partition = partition
        var records: [ReadRecord] = []
        var position: UInt64 = 0
        for _ in 0..<pagesMax {
            let target = "/v1/topics/\(options.topic)/partitions/\(partition)/records?offset=\(position)&max_records=\(pageRecordsMax)&local=true"
            var response: HTTPResponse?
            for _ in 0..<20 {
                response = try? client.send(.get, target)
                if response?.status.code == 200 { break }
                usleep(500_000)
            }
            guard let response, response.status.code == 200, let page = try? JSONValue(parsing: response.body) else {
                line.error = response.map { "GET \(target): \(ChaosOutcome.errorText($0))" } ?? "GET \(target): no answer"
                return line
            }
            for record in page["records"]?.arrayValue ?? [] {
                guard let offset = record["offset"]?.uint64Value, let value = record["value"]?.stringValue else { continue }
                let digest = CRC32C.checksum(record.serialized())
                records.append(ReadRecord(offset: offset, value: value, digest: String(digest, radix: 16)))
            }
            let next = page["next_offset"]?.uint64Value ?? position
            let highWatermark = page["high_watermark"]?.uint64Value ?? 0
            line.highWatermark = highWatermark
            if next >= highWatermark || next <= position { break }
            position = next
        }
        line.records = records
        return line
    }
}
