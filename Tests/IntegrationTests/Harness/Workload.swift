import Foundation
import HTTPServer
import Testing

/// An acknowledged record: where the cluster said it put it and what it holds.
struct AckedRecord: Sendable, Equatable {
    let partition: Int
    let offset: UInt64
    let value: String
}

/// An idempotent producer: every request carries one `producer_id` and a fresh `sequence`, and
/// a request whose outcome is unknown (503, refused, timed out) is retried with the SAME
/// sequence, so a retry returns the original offsets instead of writing twice. Requests rotate
/// over the nodes given. Retries back off (50 ms doubling to `backoffMaxMilliseconds`) for at most `retryMilliseconds`.
final class Producer: @unchecked Sendable {
    let producerID = UInt64.random(in: 1...UInt64(Int64.max))
    private(set) var nextSequence: UInt64 = 0
    private(set) var acked: [AckedRecord] = []
    private(set) var retries = 0
    private var rotation = 0
    let topic: String
    let retryMilliseconds: Int
    let backoffMaxMilliseconds: Int

    init(topic: String, retryMilliseconds: Int = 30_000, backoffMaxMilliseconds: Int = 1_000) {
        self.topic = topic
        self.retryMilliseconds = retryMilliseconds
        self.backoffMaxMilliseconds = backoffMaxMilliseconds
    }

    /// A fresh sequence number, for a caller that sends attempts itself (`attempt`).
    func reserveSequence() -> UInt64 {
        defer { nextSequence += 1 }
        return nextSequence
    }

    /// One request, no retry: the raw answer (or the transport error).
    func attempt(_ values: [String], partition: Int, sequence: UInt64, via node: ClusterNode) async throws -> Reply {
        try await node.client.send(.post, "/v1/topics/\(topic)/records", json: body(values, partition: partition, sequence: sequence))
    }

    private func body(_ values: [String], partition: Int, sequence: UInt64) -> JSONValue {
        .object([
            ("records", .array(values.map { .object([("value", .string($0)), ("partition", .integer(Int64(partition)))]) })),
            ("producer_id", .integer(Int64(producerID))),
            ("sequence", .integer(Int64(sequence))),
        ])
    }

    /// Sends `values` to `partition` as one request through one of `nodes` (rotating), retrying
    /// until acknowledged; returns the offsets and remembers the records as acknowledged.
    @discardableResult
    func produce(_ values: [String], partition: Int, via nodes: [ClusterNode], sequence reserved: UInt64? = nil) async throws -> [UInt64] {
        let sequence = reserved ?? reserveSequence()
        let body = body(values, partition: partition, sequence: sequence)
        let deadline = ContinuousClock.now + .milliseconds(retryMilliseconds)
        var backoffMilliseconds = 50
        var lastFailure = ""
        while true {  // the deadline is checked after each attempt (see TestCluster.waitHealthy)
            let node = nodes[rotation % nodes.count]
            rotation += 1
            do {
                let reply = try await node.client.send(.post, "/v1/topics/\(topic)/records", json: body)
                if reply.status == 200 {
                    let offsets = try Self.offsets(reply, count: values.count, partition: partition)
                    acked += zip(values, offsets).map { AckedRecord(partition: partition, offset: $1, value: $0) }
                    return offsets
                }
                guard reply.status == 503 else {
                    throw HarnessError("produce seq \(sequence) via node \(node.id): unexpected \(reply.status) \(reply.text)")
                }
                lastFailure = "node \(node.id): 503 \(reply.errorCode ?? "")"
            } catch let error as HTTPClientError {
                lastFailure = "node \(node.id): \(error)"
            }
            retries += 1
            if ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(backoffMilliseconds))
            backoffMilliseconds = min(backoffMilliseconds * 2, backoffMaxMilliseconds)
        }
        throw HarnessError("produce seq \(sequence) not acknowledged within \(retryMilliseconds) ms; last: \(lastFailure)")
    }

    static func offsets(_ reply: Reply, count: Int, partition: Int) throws -> [UInt64] {
        guard let entries = reply.json?["offsets"]?.arrayValue, entries.count == count else {
            throw HarnessError("produce answer has not \(count) offsets: \(reply.text)")
        }
        return try entries.map { entry in
            guard entry["partition"]?.int64Value == Int64(partition), let offset = entry["offset"]?.uint64Value else {
                throw HarnessError("bad offset entry in \(reply.text)")
            }
            return offset
        }
    }
}

/// Reading a partition by offset from one node.
enum PartitionReader {
    /// Every committed record of `partition` below `endOffset` as this node serves it
    /// (`offset → value`), following `next_offset` across gaps (control records). Waits (at most
    /// `timeoutMilliseconds` without progress) for the node's committed prefix to reach
    /// `endOffset`: a follower learns commits a heartbeat later than the leader.
    static func readAll(
        _ node: ClusterNode, topic: String, partition: Int, endOffset: UInt64, timeoutMilliseconds: Int = 20_000
    ) async throws -> [UInt64: String] {
        var records: [UInt64: String] = [:]
        var offset: UInt64 = 0
        // The time allowed without progress: it restarts whenever the offset moves on.
        var deadline = ContinuousClock.now + .milliseconds(timeoutMilliseconds)
        while offset < endOffset {
            // Checked before an attempt only once one has failed (see TestCluster.waitHealthy).
            func giveUpIfLate() throws {
                guard ContinuousClock.now < deadline else {
                    throw HarnessError("node \(node.id) partition \(partition): read stuck at offset \(offset) of \(endOffset)")
                }
            }
            let target = "/v1/topics/\(topic)/partitions/\(partition)/records?offset=\(offset)&max_records=1000&wait_ms=200"
            let reply: Reply
            do {
                reply = try await node.client.send(.get, target)
            } catch let error as HTTPClientError {
                print("read from node \(node.id): \(error); retrying")
                try giveUpIfLate()
                try await Task.sleep(for: .milliseconds(100))
                continue
            }
            guard reply.status == 200 else {
                // 503 while the node has no view of the partition yet: retry until the deadline.
                try giveUpIfLate()
                try await Task.sleep(for: .milliseconds(100))
                continue
            }
            let page = try #require(reply.json)
            for record in page["records"]?.arrayValue ?? [] {
                let recordOffset = try #require(record["offset"]?.uint64Value)
                #expect(recordOffset >= offset, "node \(node.id) partition \(partition): offset went back to \(recordOffset)")
                #expect(records[recordOffset] == nil, "node \(node.id) partition \(partition): offset \(recordOffset) twice")
                records[recordOffset] = record["value"]?.stringValue ?? ""
            }
            let next = try #require(page["next_offset"]?.uint64Value)
            #expect(next >= offset, "node \(node.id) partition \(partition): next_offset \(next) < \(offset)")
            if next <= offset {
                try giveUpIfLate()  // nothing new committed here yet
            } else {
                offset = next
                deadline = ContinuousClock.now + .milliseconds(timeoutMilliseconds)
            }
        }
        return records
    }

    /// Checks that `records` (as read from `node`) holds every acknowledged record at its offset.
    /// Returns the number of mismatches (each also recorded as an issue, up to a few).
    @discardableResult
    static func expectAcknowledged(_ acked: [AckedRecord], in records: [UInt64: String], node: Int, partition: Int) -> Int {
        var missing = 0
        for record in acked where record.partition == partition && records[record.offset] != record.value {
            missing += 1
            if missing <= 5 {
                Issue.record("node \(node): partition \(partition) offset \(record.offset) holds \(records[record.offset].map { "'\($0)'" } ?? "nothing"), acknowledged '\(record.value)'")
            }
        }
        #expect(missing == 0, "node \(node): \(missing) acknowledged records of partition \(partition) are missing or moved")
        return missing
    }
}

/// Topic administration and leader discovery through the REST API.
enum Admin {
    static func createTopic(
        _ name: String, partitions: Int, replicationFactor: Int = 3, via node: ClusterNode, timeoutMilliseconds: Int = 20_000
    ) async throws {
        let body = JSONValue.object([
            ("name", .string(name)), ("partitions", .integer(Int64(partitions))), ("replication_factor", .integer(Int64(replicationFactor))),
        ])
        let deadline = ContinuousClock.now + .milliseconds(timeoutMilliseconds)
        var last = ""
        while true {  // the deadline is checked after each attempt (see TestCluster.waitHealthy)
            if let reply = try? await node.client.send(.post, "/v1/topics", json: body) {
                if reply.status == 201 || reply.status == 409 { return }
                last = "\(reply.status) \(reply.text)"
            }
            if ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        throw HarnessError("could not create topic \(name): \(last)")
    }

    /// The leader of `partition` as `node` knows it, or nil.
    static func leader(of topic: String, partition: Int, askingNode node: ClusterNode) async -> Int? {
        guard let reply = try? await node.client.send(.get, "/v1/topics/\(topic)"), reply.status == 200 else { return nil }
        let entry = reply.json?["partitions"]?.arrayValue?.first { $0["partition"]?.int64Value == Int64(partition) }
        return entry?["leader"]?.int64Value.map { Int($0) }
    }

    /// Waits (bounded) until `node` reports a leader for every partition; returns them.
    static func waitForLeaders(_ topic: String, partitions: Int, askingNode node: ClusterNode, timeoutMilliseconds: Int = 20_000) async throws -> [Int] {
        let deadline = ContinuousClock.now + .milliseconds(timeoutMilliseconds)
        while true {  // the deadline is checked after each attempt (see TestCluster.waitHealthy)
            var leaders: [Int] = []
            for partition in 0..<partitions {
                if let leader = await leader(of: topic, partition: partition, askingNode: node) { leaders.append(leader) }
            }
            if leaders.count == partitions { return leaders }
            if ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError("topic \(topic): not every partition has a leader after \(timeoutMilliseconds) ms")
    }
}
