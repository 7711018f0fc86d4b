import Foundation
import MOMCore
import SegmentLog
import Synchronization
import SystemIO
import Testing

/// kill -9 of a partition leader, then its restart.
extension ClusterTests {
    /// While a producer keeps writing through every node, the leader of partition 0 is killed
    /// with SIGKILL: a new leader serves (the time is printed, the bound asserted is generous),
    /// the producer goes on, and no acknowledged record is lost or moves. The killed node then
    /// restarts, catches up, and — after the cluster stops — its committed prefix of every
    /// partition is byte-identical (offset, term, payload) to the other replicas'.
    @Test func killedLeaderIsReplacedAndCatchesUpAfterRestart() async throws {
        try await TestCluster.run { cluster in
            let topic = "payments"
            try await Admin.createTopic(topic, partitions: 3, via: cluster.node(1))
            _ = try await Admin.waitForLeaders(topic, partitions: 3, askingNode: cluster.node(1))
            let before = Producer(topic: topic)
            for request in 0..<15 {
                try await before.produce((0..<50).map { Self.value(request: request, index: $0) }, partition: request % 3,
                                         via: Self.rotated(cluster.nodes, by: request))
            }

            // A background producer keeps writing through all nodes, the dead one included.
            let background = Producer(topic: topic)
            let stop = StopFlag()
            let allNodes = cluster.nodes
            let backgroundTask = Task {
                var request = 1_000
                while !stop.isSet && request < 1_400 {
                    try await background.produce((0..<20).map { Self.value(request: request, index: $0) }, partition: request % 3,
                                                 via: Self.rotated(allNodes, by: request))
                    request += 1
                }
            }

            let victim = try #require(await Admin.leader(of: topic, partition: 0, askingNode: cluster.node(1)))
            let survivors = cluster.nodes.filter { $0.id != victim }
            try await Task.sleep(for: .milliseconds(300))
            let killed = ContinuousClock.now
            await cluster.kill(victim)
            // Probe partition 0 through the survivors until a write is acknowledged again.
            let probe = Producer(topic: topic, retryMilliseconds: 15_000, backoffMaxMilliseconds: 100)
            try await probe.produce(["probe-after-kill"], partition: 0, via: survivors)
            let outage = ContinuousClock.now - killed
            let newLeader = await Admin.leader(of: topic, partition: 0, askingNode: survivors[0])
            print("kill -9 of node \(victim) (leader of partition 0): writes to partition 0 acknowledged again after \(outage); new leader \(newLeader.map(String.init) ?? "?")")
            #expect(newLeader != victim)

            try await Task.sleep(for: .seconds(1))
            stop.set()
            try await backgroundTask.value
            let after = Producer(topic: topic)
            for request in 2_000..<2_006 {
                try await after.produce((0..<50).map { Self.value(request: request, index: $0) }, partition: request % 3,
                                        via: Self.rotated(survivors, by: request))
            }
            let acked = before.acked + background.acked + probe.acked + after.acked
            print("acknowledged \(acked.count) records (background producer: \(background.acked.count), \(background.retries) retries)")
            try await Self.expectEveryNodeHasAcknowledged(acked, cluster: cluster, topic: topic, partitions: 3, nodes: survivors)

            // Restart the killed node: it catches up from the leaders.
            try cluster.start(victim)
            try await cluster.waitHealthy(victim, timeoutMilliseconds: 30_000)
            try await Self.expectEveryNodeHasAcknowledged(acked, cluster: cluster, topic: topic, partitions: 3, nodes: [cluster.node(victim)])
            var committedEnds: [Int: UInt64] = [:]
            for partition in 0..<3 {
                committedEnds[partition] = (acked.filter { $0.partition == partition }.map(\.offset).max() ?? 0) + 1
            }
            // Stop every node (in parallel), then compare the replicas on disk.
            await withTaskGroup(of: Void.self) { group in
                for node in cluster.nodes { group.addTask { await cluster.stop(node.id) } }
            }
            for partition in 0..<3 {
                try Self.expectReplicasIdentical(cluster: cluster, topic: topic, partition: partition, below: committedEnds[partition]!)
            }
        }
    }

    /// Opens each node's segment log of the partition (nodes stopped) and checks that the
    /// records below `endOffset` agree exactly: same offsets, terms and payload bytes (the Raft
    /// entry, which holds key, value, headers and producer id/sequence). Batch-header fields are
    /// not compared: each replica groups entries into on-disk batches its own way (the leader per
    /// proposal, a follower per append message), so the batch's timestamp and its first-record
    /// `sequence` (0 for Raft entries, plus the index in the batch) legitimately differ.
    static func expectReplicasIdentical(cluster: TestCluster, topic: String, partition: Int, below endOffset: UInt64) throws {
        var replicas: [(node: Int, records: [LogRecord])] = []
        for node in cluster.nodes {
            let log = try SegmentLog.open(directory: "\(node.dataDirectory)/\(topic)/\(partition)", fileSystem: PosixFileSystem(),
                                          configuration: .init(clock: SystemClock()))
            defer { log.close() }
            var records: [LogRecord] = []
            var offset = log.logStartOffset
            while offset.rawValue < endOffset && offset < log.logEndOffset && records.count <= Int(endOffset) {
                let page = try log.read(from: offset, maxBytes: 4 << 20, maxRecords: 10_000)
                guard let last = page.last else { break }
                records += page.filter { $0.offset.rawValue < endOffset }
                offset = last.offset.next
            }
            #expect(log.logEndOffset.rawValue >= endOffset, "node \(node.id) partition \(partition): log ends at \(log.logEndOffset.rawValue), committed \(endOffset)")
            replicas.append((node.id, records))
        }
        let reference = replicas[0]
        for replica in replicas.dropFirst() {
            #expect(replica.records.count == reference.records.count,
                    "partition \(partition): node \(replica.node) has \(replica.records.count) records below \(endOffset), node \(reference.node) \(reference.records.count)")
            var differences = 0
            for (mine, theirs) in zip(replica.records, reference.records)
            where mine.offset != theirs.offset || mine.term != theirs.term || mine.value != theirs.value {
                differences += 1
                if differences <= 3 {
                    Issue.record("""
                        partition \(partition) offset \(mine.offset.rawValue): node \(replica.node) has (offset \(mine.offset.rawValue), \
                        term \(mine.term.rawValue), \(mine.value.count) bytes), node \(reference.node) has \
                        (offset \(theirs.offset.rawValue), term \(theirs.term.rawValue), \(theirs.value.count) bytes)
                        """)
                }
            }
            #expect(differences == 0, "partition \(partition): node \(replica.node) differs from node \(reference.node) in \(differences) records")
        }
        print("partition \(partition): \(reference.records.count) records below offset \(endOffset) identical on nodes \(replicas.map(\.node))")
    }
}

/// Tells a background task to finish (shared across tasks).
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .acquiring) }
    func set() { flag.store(true, ordering: .releasing) }
}
