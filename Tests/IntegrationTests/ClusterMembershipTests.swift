import Foundation
import HTTPServer
import Testing

/// Adding a broker to a running cluster and moving a partition onto it (docs/operations.md §4),
/// with real momd processes and a real ZooKeeper.
@Suite("cluster membership over REST", .serialized, .enabled(if: IntegrationEnvironment.enabled, IntegrationEnvironment.skipReason))
struct ClusterMembershipTests {
    /// Waits (bounded) until `condition` holds, polling every 200 ms.
    static func waitFor(_ what: String, timeoutMilliseconds: Int = 60_000, _ condition: () async -> Bool) async throws {
        let deadline = ContinuousClock.now + .milliseconds(timeoutMilliseconds)
        while true {  // checked after each attempt (see TestCluster.waitHealthy)
            if await condition() { return }
            if ContinuousClock.now >= deadline { throw HarnessError("timed out waiting until \(what)") }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// The groups a node hosts, by id, as its GET /v1/cluster lists them.
    static func hostedGroups(_ node: ClusterNode) async -> [UInt64: JSONValue]? {
        guard let reply = try? await node.client.send(.get, "/v1/cluster"), reply.status == 200 else { return nil }
        var groups: [UInt64: JSONValue] = [:]
        for group in reply.json?["groups"]?.arrayValue ?? [] {
            if let id = group["group"]?.uint64Value { groups[id] = group }
        }
        return groups
    }

    static func voters(_ group: JSONValue?) -> [UInt64] { group?["voters"]?.arrayValue?.compactMap(\.uint64Value).sorted() ?? [] }

    /// 3 nodes take records; a 4th (not a `__meta` voter) starts, learns the catalog, and the
    /// partition moves from {1,2,3} to {1,2,4} while records keep coming. Node 4 then serves
    /// every acknowledged record from its own replica, node 3 holds none (also after both
    /// restart), nothing is lost; then the partition moves off its current leader, and once more
    /// with the leader driving the move killed midway.
    @Test func aFourthNodeJoinsAndTakesOverAPartition() async throws {
        try await TestCluster.run(size: 4, metaReplicas: 3, started: 3) { cluster in
            let topic = "moving"
            try await Admin.createTopic(topic, partitions: 1, via: cluster.node(1))
            _ = try await Admin.waitForLeaders(topic, partitions: 1, askingNode: cluster.node(2))
            let producer = Producer(topic: topic)
            let first = Array(cluster.nodes.prefix(3))
            for request in 0..<20 {
                try await producer.produce((0..<50).map { ClusterTests.value(request: request, index: $0) }, partition: 0,
                                           via: ClusterTests.rotated(first, by: request))
            }

            try cluster.start(4)
            try await cluster.waitHealthy(4, timeoutMilliseconds: 30_000)
            let newcomer = cluster.node(4)
            try await Self.waitFor("node 4 learns the catalog") {
                guard let reply = try? await newcomer.client.send(.get, "/v1/topics") else { return false }
                return reply.json?["topics"]?.arrayValue?.contains { $0["name"]?.stringValue == topic } == true
            }
            // Node 4 may have applied the catalog before the configuration entry that made it a
            // learner (its commit index arrives with the next append): its own view of `__meta`
            // catches up a moment later. Until then it must never see itself as a voter.
            try await Self.waitFor("node 4 sees itself as a __meta learner") {
                let meta = await Self.hostedGroups(newcomer)?[0]
                #expect(!Self.voters(meta).contains(4), "node 4 follows __meta without voting: \(String(describing: meta))")
                return meta?["owner"]?.stringValue == "__meta" && meta?["learners"]?.arrayValue?.compactMap(\.uint64Value) == [4]
            }

            let refused = try await cluster.node(2).client.send(
                .post, "/v1/topics/\(topic)/partitions/0/reassign", json: .object([("replicas", .array([.integer(1), .integer(2), .integer(9)]))]))
            #expect(refused.status == 400 && refused.errorCode == "bad_request", "unknown node: \(refused.text)")
            let moved = try await cluster.node(2).client.send(
                .post, "/v1/topics/\(topic)/partitions/0/reassign", json: .object([("replicas", .array([.integer(1), .integer(2), .integer(4)]))]))
            #expect(moved.status == 202, "reassign: \(moved.text)")
            let group = try #require(moved.json?["group"]?.uint64Value)

            // Records keep coming while the group changes under them.
            for request in 20..<30 {
                try await producer.produce((0..<50).map { ClusterTests.value(request: request, index: $0) }, partition: 0,
                                           via: ClusterTests.rotated(first, by: request))
            }
            try await Self.waitFor("node 4 votes in the partition's group") {
                Self.voters(await Self.hostedGroups(newcomer)?[group]) == [1, 2, 4]
            }
            try await Self.waitFor("node 3 drops its replica") {
                guard let hosted = await Self.hostedGroups(cluster.node(3)) else { return false }
                return hosted[group] == nil
            }
            // Restarts keep the new configuration: node 4 replays it from its log (its replica
            // started from the group's initial voters), and node 3 does not resurrect its copy.
            await cluster.kill(4)
            await cluster.kill(3)
            try cluster.start(4)
            try cluster.start(3)
            try await cluster.waitHealthy(4, timeoutMilliseconds: 30_000)
            try await cluster.waitHealthy(3, timeoutMilliseconds: 30_000)
            try await Self.waitFor("node 4 is a voter again after its restart") {
                Self.voters(await Self.hostedGroups(newcomer)?[group]) == [1, 2, 4]
            }
            try await Self.waitFor("restarted node 3 holds no replica") {
                guard let hosted = await Self.hostedGroups(cluster.node(3)), hosted[0] != nil else { return false }
                return hosted[group] == nil
            }
            for request in 30..<40 {
                try await producer.produce((0..<50).map { ClusterTests.value(request: request, index: $0) }, partition: 0,
                                           via: ClusterTests.rotated([cluster.node(1), cluster.node(2), newcomer], by: request))
            }
            #expect(producer.acked.count == 2_000)

            let endOffset = (producer.acked.map(\.offset).max() ?? 0) + 1
            let fromNewcomer = try await PartitionReader.readAll(newcomer, topic: topic, partition: 0, endOffset: endOffset)
            PartitionReader.expectAcknowledged(producer.acked, in: fromNewcomer, node: 4, partition: 0)
            for id in [1, 2] {
                let records = try await PartitionReader.readAll(cluster.node(id), topic: topic, partition: 0, endOffset: endOffset)
                PartitionReader.expectAcknowledged(producer.acked, in: records, node: id, partition: 0)
                #expect(records == fromNewcomer, "node 4 serves exactly what node \(id) serves")
            }
            // Node 3 restarted a moment ago: until it hears from the `__meta` leader it answers
            // 503 `metadata_unavailable` ("retry"), as a client would, so the check retries.
            try await Self.waitFor("node 3's catalog shows the new replica set") {
                guard let described = try? await cluster.node(3).client.send(.get, "/v1/topics/\(topic)") else { return false }
                if described.status == 503 && described.errorCode == "metadata_unavailable" { return false }
                let replicas = described.json?["partitions"]?.arrayValue?.first?["replicas"]?.arrayValue?.compactMap(\.uint64Value)
                #expect(replicas == [1, 2, 4], "the catalog shows the new replica set: \(described.text)")
                return true
            }
            #expect(Self.voters(await Self.hostedGroups(cluster.node(1))?[group]) == [1, 2, 4])

            // Now move the partition off its current leader (back to node 3): the leader hands
            // leadership over before it is removed, and records keep committing.
            let leader = try #require(await Admin.leader(of: topic, partition: 0, askingNode: cluster.node(1)))
            let target = [1, 2, 4].map { $0 == leader ? 3 : $0 }
            let away = try await cluster.node(1).client.send(
                .post, "/v1/topics/\(topic)/partitions/0/reassign", json: .object([("replicas", .array(target.map { .integer(Int64($0)) }))]))
            #expect(away.status == 202, "reassign away from the leader: \(away.text)")
            try await Self.waitFor("node \(leader) hands over and drops its replica") {
                guard let hosted = await Self.hostedGroups(cluster.node(leader)) else { return false }
                return hosted[group] == nil
            }
            let remaining = target.map { cluster.node($0) }
            try await Self.waitFor("the group's voters are \(target.sorted())") {
                Self.voters(await Self.hostedGroups(remaining[0])?[group]) == target.sorted().map { UInt64($0) }
            }
            for request in 40..<45 {
                try await producer.produce((0..<50).map { ClusterTests.value(request: request, index: $0) }, partition: 0,
                                           via: ClusterTests.rotated(remaining, by: request))
            }
            let phaseEnd = (producer.acked.map(\.offset).max() ?? 0) + 1
            for node in remaining {
                let records = try await PartitionReader.readAll(node, topic: topic, partition: 0, endOffset: phaseEnd)
                PartitionReader.expectAcknowledged(producer.acked, in: records, node: node.id, partition: 0)
            }

            // The leader driving a move is killed right after the target is recorded: the next
            // leader re-plans from the configuration in force and finishes it.
            let driver = try #require(await Admin.leader(of: topic, partition: 0, askingNode: remaining[0]))
            let replaced = try #require(target.first { $0 != driver })
            let third = target.map { $0 == replaced ? leader : $0 }
            let entry = try #require(remaining.first { $0.id != driver })
            let resumed = try await entry.client.send(
                .post, "/v1/topics/\(topic)/partitions/0/reassign", json: .object([("replicas", .array(third.map { .integer(Int64($0)) }))]))
            #expect(resumed.status == 202, "reassign: \(resumed.text)")
            await cluster.kill(driver)
            let survivors = third.filter { $0 != driver }.map { cluster.node($0) }
            try await Self.waitFor("the next leader finishes the move to \(third.sorted())") {
                Self.voters(await Self.hostedGroups(survivors[0])?[group]) == third.sorted().map { UInt64($0) }
            }
            try cluster.start(driver)
            try await cluster.waitHealthy(driver, timeoutMilliseconds: 30_000)
            try await Self.waitFor("node \(replaced) drops its replica") {
                guard let hosted = await Self.hostedGroups(cluster.node(replaced)) else { return false }
                return hosted[group] == nil
            }
            let final = third.map { cluster.node($0) }
            for request in 45..<50 {
                try await producer.produce((0..<50).map { ClusterTests.value(request: request, index: $0) }, partition: 0,
                                           via: ClusterTests.rotated(final, by: request))
            }
            #expect(producer.acked.count == 2_500)
            let finalEnd = (producer.acked.map(\.offset).max() ?? 0) + 1
            for node in final {
                let records = try await PartitionReader.readAll(node, topic: topic, partition: 0, endOffset: finalEnd)
                PartitionReader.expectAcknowledged(producer.acked, in: records, node: node.id, partition: 0)
            }
        }
    }
    /// A queue partition moves the same way, its consumer state with it: acknowledged messages
    /// stay acknowledged, the rest are delivered after the move, through the new node.
    @Test func aQueuePartitionMovesWithItsAcks() async throws {
        try await TestCluster.run(size: 4, metaReplicas: 3, started: 3) { cluster in
            let queue = "jobs"
            let first = Array(cluster.nodes.prefix(3))
            try await QueueAdmin.create(queue, partitions: 1, ackTimeoutMilliseconds: 30_000, via: cluster.node(1))
            _ = try await QueueAdmin.waitForLeaders(queue, partitions: 1, askingNode: cluster.node(2))
            let values = (0..<100).map { "job-\($0)-" + String(repeating: "j", count: 32) }
            try await QueueAdmin.send(values, to: queue, batch: 25, via: first)
            let early = DeliveryLog()
            let receiver = try QueueReceiver(queue: queue, nodes: first, maxMessages: 10)
            await receiver.run(log: early, deadline: ContinuousClock.now + .seconds(30)) { early.uniqueCount >= 40 }
            let acknowledged = early.acknowledgedSet
            #expect(acknowledged.count >= 30, "most early acks are confirmed: \(acknowledged.count)")

            try cluster.start(4)
            try await cluster.waitHealthy(4, timeoutMilliseconds: 30_000)
            let newcomer = cluster.node(4)
            try await Self.waitFor("node 4 learns the catalog") { await QueueAdmin.describe(queue, askingNode: newcomer) != nil }
            let moved = try await newcomer.client.send(
                .post, "/v1/queues/\(queue)/partitions/0/reassign", json: .object([("replicas", .array([.integer(4), .integer(1), .integer(2)]))]))
            #expect(moved.status == 202, "reassign: \(moved.text)")
            let group = try #require(moved.json?["group"]?.uint64Value)
            try await Self.waitFor("node 4 votes in the queue's group") {
                Self.voters(await Self.hostedGroups(newcomer)?[group]) == [1, 2, 4]
            }
            try await Self.waitFor("node 3 drops its replica") {
                guard let hosted = await Self.hostedGroups(cluster.node(3)) else { return false }
                return hosted[group] == nil
            }

            let late = DeliveryLog()
            let through = try QueueReceiver(queue: queue, nodes: [newcomer, cluster.node(1), cluster.node(2)], maxMessages: 20)
            await through.run(log: late, deadline: ContinuousClock.now + .seconds(60)) { late.uniqueCount >= values.count - acknowledged.count }
            let rest = Set(late.all.map(\.value))
            #expect(rest == Set(values).subtracting(acknowledged), "after the move, exactly the unacknowledged messages are delivered")
            #expect(late.redeliveredAfterAck.isEmpty)
        }
    }
}
