import Foundation
import Testing

/// A node cut off from the majority.
extension ClusterTests {
    /// Two of three nodes are killed (SIGKILL, later restarted) or paused (SIGSTOP, later
    /// SIGCONT: their sockets stay open but nothing answers): the remaining node must answer a
    /// produce with 503 (no quorum, or outcome unknown) and never acknowledge it. Once the two
    /// return, the cluster serves again: the same request (same producer sequence) is
    /// acknowledged, exactly once, and every acknowledged record is on every node.
    @Test(arguments: [Fault.kill, Fault.pause])
    func minorityNodeRefusesWritesAndTheClusterRecovers(fault: Fault) async throws {
        try await TestCluster.run { cluster in
            let topic = "audit"
            try await Admin.createTopic(topic, partitions: 1, via: cluster.node(1))
            let leaders = try await Admin.waitForLeaders(topic, partitions: 1, askingNode: cluster.node(1))
            let producer = Producer(topic: topic)
            for request in 0..<6 {
                try await producer.produce((0..<20).map { Self.value(request: request, index: $0) }, partition: 0,
                                           via: Self.rotated(cluster.nodes, by: request))
            }
            // Keep the leader as the lone node: it is the one that could wrongly ack on its own.
            let lone = cluster.node(leaders[0])
            let others = cluster.nodes.filter { $0.id != lone.id }
            for node in others {
                switch fault {
                case .kill: await cluster.kill(node.id)
                case .pause: cluster.pause(node.id)
                }
            }

            let sequence = producer.reserveSequence()
            let values = (0..<20).map { Self.value(request: 99, index: $0) }
            var refusals = 0
            var answers: [String] = []
            // Bounded by count, not time: each attempt is bounded by the client's 15 s timeout.
            while refusals < 3 && answers.count < 10 {
                do {
                    let reply = try await producer.attempt(values, partition: 0, sequence: sequence, via: lone)
                    answers.append("\(reply.status) \(reply.errorCode ?? "")")
                    #expect(reply.status != 200, "node \(lone.id) alone acknowledged a write: \(reply.text)")
                    if reply.status == 503 { refusals += 1 }
                } catch {
                    answers.append("\(error)")
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            print("\(fault): lone node \(lone.id) answered: \(answers)")
            #expect(refusals >= 3, "node \(lone.id) alone should answer 503; answers: \(answers)")

            for node in others {
                switch fault {
                case .kill: try cluster.start(node.id)
                case .pause: cluster.resume(node.id)
                }
            }
            for node in others { try await cluster.waitHealthy(node.id, timeoutMilliseconds: 30_000) }
            // The refused request, retried with its sequence, now succeeds (once).
            let offsets = try await producer.produce(values, partition: 0, via: cluster.nodes, sequence: sequence)
            #expect(offsets.count == values.count)
            try await producer.produce(["after-recovery"], partition: 0, via: cluster.nodes)
            try await Self.expectEveryNodeHasAcknowledged(producer.acked, cluster: cluster, topic: topic, partitions: 1)
            try await Self.expectValuesOnce(values, node: lone, topic: topic, partition: 0)
        }
    }

    /// Each value appears exactly once in the partition as `node` serves it (no duplicate from
    /// the retries of one idempotent request).
    static func expectValuesOnce(_ values: [String], node: ClusterNode, topic: String, partition: Int) async throws {
        let reply = try await node.client.send(.get, "/v1/topics/\(topic)")
        let entry = reply.json?["partitions"]?.arrayValue?.first { $0["partition"]?.int64Value == Int64(partition) }
        let highWatermark = try #require(entry?["high_watermark"]?.uint64Value, "no high_watermark in \(reply.text)")
        let records = try await PartitionReader.readAll(node, topic: topic, partition: partition, endOffset: highWatermark)
        var counts: [String: Int] = [:]
        for value in records.values { counts[value, default: 0] += 1 }
        for value in values {
            #expect(counts[value] == 1, "'\(value)' appears \(counts[value] ?? 0) times on node \(node.id)")
        }
    }
}

/// How a test takes nodes away.
enum Fault: String, Sendable, CustomStringConvertible {
    /// SIGKILL; brought back by starting the node again on its data directory.
    case kill
    /// SIGSTOP; brought back by SIGCONT.
    case pause

    var description: String { rawValue }
}
