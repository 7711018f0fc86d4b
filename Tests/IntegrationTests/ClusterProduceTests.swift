import Foundation
import Testing

/// Tier-3 integration (DESIGN §6): real momd processes and a real ZooKeeper, driven over REST.
/// One suite, run serially: each test starts its own 3-node cluster under its own ZooKeeper
/// root and ports, and several clusters at once would overload a small shared machine.
@Suite("3-node cluster over REST", .serialized, .enabled(if: IntegrationEnvironment.enabled, IntegrationEnvironment.skipReason))
struct ClusterTests {
    /// A value of ~100 bytes that names where it was sent, so a misplaced record is obvious.
    static func value(request: Int, index: Int) -> String {
        "request-\(request)-record-\(index)-" + String(repeating: "v", count: 64)
    }

    /// The nodes rotated by `shift`, so successive requests enter through different nodes.
    static func rotated(_ nodes: [ClusterNode], by shift: Int) -> [ClusterNode] {
        (0..<nodes.count).map { nodes[($0 + shift) % nodes.count] }
    }

    /// Every acknowledged record is readable at its acknowledged offset from every node's own replica.
    static func expectEveryNodeHasAcknowledged(
        _ acked: [AckedRecord], cluster: TestCluster, topic: String, partitions: Int, nodes: [ClusterNode]? = nil
    ) async throws {
        for partition in 0..<partitions {
            let endOffset = (acked.filter { $0.partition == partition }.map(\.offset).max() ?? 0) + 1
            for node in nodes ?? cluster.nodes {
                let records = try await PartitionReader.readAll(node, topic: topic, partition: partition, endOffset: endOffset)
                PartitionReader.expectAcknowledged(acked, in: records, node: node.id, partition: partition)
            }
        }
    }

    /// 10,000 records over 3 partitions, 100 per request, each request entering through the next
    /// node; then every node serves every acknowledged record at its offset with its value.
    @Test func everyAcknowledgedRecordIsReadableFromEveryNode() async throws {
        try await TestCluster.run { cluster in
            let topic = "orders"
            try await Admin.createTopic(topic, partitions: 3, via: cluster.node(1))
            _ = try await Admin.waitForLeaders(topic, partitions: 3, askingNode: cluster.node(2))
            let producer = Producer(topic: topic)
            let requests = 100
            let started = ContinuousClock.now
            for request in 0..<requests {
                let values = (0..<100).map { Self.value(request: request, index: $0) }
                try await producer.produce(values, partition: request % 3, via: Self.rotated(cluster.nodes, by: request + request / 3))
            }
            let elapsed = ContinuousClock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print("produced \(producer.acked.count) records in \(requests) requests in \(elapsed) (\(Int(Double(producer.acked.count) / seconds)) records/s, \(producer.retries) retries)")
            #expect(producer.acked.count == 10_000)
            for partition in 0..<3 {
                let offsets = producer.acked.filter { $0.partition == partition }.map(\.offset)
                #expect(Set(offsets).count == offsets.count, "partition \(partition): an offset was acknowledged twice")
            }
            try await Self.expectEveryNodeHasAcknowledged(producer.acked, cluster: cluster, topic: topic, partitions: 3)
        }
    }
}
