import Foundation
import Testing

/// Queues on a real 3-node cluster: competing consumers, redelivery after the ack timeout,
/// dead-lettering, and kill -9 of a queue partition's leader mid-drain.
extension ClusterTests {
    /// 4 receivers, spread over the nodes, drain 10,000 messages and ack at once: each message
    /// is delivered exactly once (no ack timeout expires, so at-least-once is exactly-once here).
    @Test func competingReceiversDrainEachMessageOnce() async throws {
        try await TestCluster.run { cluster in
            let queue = "drain"
            try await QueueAdmin.create(queue, partitions: 3, ackTimeoutMilliseconds: 30_000, via: cluster.node(1))
            _ = try await QueueAdmin.waitForLeaders(queue, partitions: 3, askingNode: cluster.node(2))
            let values = (0..<10_000).map { "message-\($0)" }
            let started = ContinuousClock.now
            try await QueueAdmin.send(values, to: queue, batch: 200, via: cluster.nodes)
            print("sent 10,000 messages in \(ContinuousClock.now - started)")

            let log = DeliveryLog()
            let deadline = ContinuousClock.now + .seconds(45)
            let drainStarted = ContinuousClock.now
            await withTaskGroup(of: Void.self) { group in
                for receiver in 0..<4 {
                    let nodes = ClusterTests.rotated(cluster.nodes, by: receiver)
                    guard let consumer = try? QueueReceiver(queue: queue, nodes: nodes, maxMessages: 100, waitMilliseconds: 300) else { continue }
                    group.addTask { await consumer.run(log: log, deadline: deadline) { log.uniqueCount >= values.count } }
                }
            }
            let deliveries = log.all
            print("4 receivers drained \(log.uniqueCount) messages in \(ContinuousClock.now - drainStarted) (\(deliveries.count) deliveries)")
            #expect(log.uniqueCount == values.count, "every message delivered")
            #expect(deliveries.count == values.count, "no message delivered twice while everyone acks at once")
            #expect(Set(deliveries.map(\.value)) == Set(values))
            #expect(deliveries.allSatisfy { $0.deliveryCount == 1 })
            let stats = await QueueAdmin.describe(queue, askingNode: cluster.node(3))
            #expect(stats?["depth"]?.uint64Value == 0)
            #expect(stats?["acknowledged"]?.uint64Value == UInt64(values.count))
        }
    }

    /// A receiver that never acks: after the ack timeout its messages go to the others, with
    /// delivery_count 2.
    @Test func unackedMessagesAreRedeliveredToOthers() async throws {
        try await TestCluster.run { cluster in
            let queue = "visibility"
            try await QueueAdmin.create(queue, partitions: 2, ackTimeoutMilliseconds: 1_500, via: cluster.node(1))
            _ = try await QueueAdmin.waitForLeaders(queue, partitions: 2, askingNode: cluster.node(1))
            let values = (0..<40).map { "job-\($0)" }
            try await QueueAdmin.send(values, to: queue, batch: 40, via: cluster.nodes)

            let greedyLog = DeliveryLog()
            let greedy = try QueueReceiver(queue: queue, nodes: [cluster.node(1)], maxMessages: 15, waitMilliseconds: 0)
            await greedy.run(log: greedyLog, deadline: ContinuousClock.now + .seconds(10), shouldAck: { _ in false }) { !greedyLog.all.isEmpty }
            let taken = Set(greedyLog.all.map(\.value))
            #expect(taken.count == 15, "the greedy receiver took 15 and never acks them")

            let log = DeliveryLog()
            let deadline = ContinuousClock.now + .seconds(30)
            await withTaskGroup(of: Void.self) { group in
                for receiver in 0..<2 {
                    guard let consumer = try? QueueReceiver(queue: queue, nodes: ClusterTests.rotated(Array(cluster.nodes.dropFirst()), by: receiver), maxMessages: 10, waitMilliseconds: 500) else { continue }
                    group.addTask { await consumer.run(log: log, deadline: deadline) { log.uniqueCount >= values.count } }
                }
            }
            let deliveries = log.all
            #expect(Set(deliveries.map(\.value)) == Set(values), "the others got every message, the greedy one's too")
            for delivery in deliveries {
                #expect(delivery.deliveryCount == (taken.contains(delivery.value) ? 2 : 1), "\(delivery.value) came with delivery_count \(delivery.deliveryCount)")
            }
            #expect(deliveries.count == values.count)
            print("redelivered \(deliveries.filter { $0.deliveryCount == 2 }.count) unacked messages to other receivers")
        }
    }

    /// With max_deliveries 2, a message nobody acks is delivered twice, then moved to
    /// `<q>.dead-letter` with headers naming its source; the others are acked normally.
    @Test func exhaustedMessageMovesToDeadLetterQueue() async throws {
        try await TestCluster.run { cluster in
            let queue = "fragile"
            try await QueueAdmin.create(queue, partitions: 1, ackTimeoutMilliseconds: 700, maxDeliveries: 2, via: cluster.node(1))
            _ = try await QueueAdmin.waitForLeaders(queue, partitions: 1, askingNode: cluster.node(2))
            _ = try await QueueAdmin.waitForLeaders(queue + ".dead-letter", partitions: 1, askingNode: cluster.node(2))
            try await QueueAdmin.send(["fine-1", "poison", "fine-2"], to: queue, via: cluster.nodes)

            let log = DeliveryLog()
            let consumer = try QueueReceiver(queue: queue, nodes: ClusterTests.rotated(cluster.nodes, by: 1), maxMessages: 10, waitMilliseconds: 300)
            await consumer.run(log: log, deadline: ContinuousClock.now + .seconds(30), shouldAck: { $0.value != "poison" }) {
                log.all.filter { $0.value == "poison" }.count >= 2
            }
            let poison = log.all.filter { $0.value == "poison" }
            #expect(poison.map(\.deliveryCount) == [1, 2])

            // The move happens on a receive once the second claim expires; keep receiving.
            let deadLetters = DeliveryLog()
            let deadLetterConsumer = try QueueReceiver(queue: queue + ".dead-letter", nodes: cluster.nodes, maxMessages: 10, waitMilliseconds: 300)
            let deadline = ContinuousClock.now + .seconds(20)
            async let source: Void = consumer.run(log: log, deadline: deadline, shouldAck: { $0.value != "poison" }) { deadLetters.uniqueCount >= 1 }
            await deadLetterConsumer.run(log: deadLetters, deadline: deadline) { deadLetters.uniqueCount >= 1 }
            await source
            let moved = try #require(deadLetters.all.first, "the poison message reached the dead-letter queue")
            #expect(moved.value == "poison")
            #expect(moved.headers["x-mom-source-queue"] == queue)
            #expect(moved.headers["x-mom-delivery-count"] == "2")
            #expect(log.all.filter { $0.value == "poison" }.count == 2, "never a third delivery")
            let stats = await QueueAdmin.describe(queue, askingNode: cluster.node(3))
            #expect(stats?["dead_lettered"]?.uint64Value == 1)
            #expect(stats?["depth"]?.uint64Value == 0)
        }
    }

    /// kill -9 of the leader of partition 0 while 3 receivers drain 3,000 messages: nothing is
    /// lost, no message whose ack was confirmed comes back, and redeliveries (claims and acks
    /// the dead leader took with it) are bounded; their number is printed.
    @Test func killedQueueLeaderLosesNothing() async throws {
        try await TestCluster.run { cluster in
            let queue = "sturdy"
            try await QueueAdmin.create(queue, partitions: 3, ackTimeoutMilliseconds: 3_000, via: cluster.node(1))
            let leaders = try await QueueAdmin.waitForLeaders(queue, partitions: 3, askingNode: cluster.node(1))
            let values = (0..<3_000).map { "task-\($0)" }
            try await QueueAdmin.send(values, to: queue, batch: 250, via: cluster.nodes)
            let victim = leaders[0]
            let survivors = cluster.nodes.filter { $0.id != victim }

            let log = DeliveryLog()
            let deadline = ContinuousClock.now + .seconds(50)
            let killed = StopFlag()
            let partitionZeroAtKill = SharedCount()
            await withTaskGroup(of: Void.self) { group in
                for receiver in 0..<3 {
                    guard let consumer = try? QueueReceiver(queue: queue, nodes: ClusterTests.rotated(cluster.nodes, by: receiver), maxMessages: 20, waitMilliseconds: 300) else { continue }
                    group.addTask { await consumer.run(log: log, deadline: deadline) { log.uniqueCount >= values.count } }
                }
                group.addTask {
                    while log.uniqueCount < 1_000 && ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
                    print("kill -9 of node \(victim) (leader of partition 0) after \(log.uniqueCount) messages")
                    partitionZeroAtKill.set(log.all.filter { $0.partition == 0 }.count)
                    await cluster.kill(victim)
                    killed.set()
                }
            }
            #expect(killed.isSet)
            let partitionZeroAfter = log.all.filter { $0.partition == 0 }.count - partitionZeroAtKill.value
            print("partition 0 delivered \(partitionZeroAfter) messages after its leader was killed")
            #expect(partitionZeroAfter > 0, "the new leader of partition 0 served the rest of it")
            let deliveries = log.all
            let redeliveries = deliveries.count - log.uniqueCount
            print("drained \(log.uniqueCount) of \(values.count) messages in \(deliveries.count) deliveries: \(redeliveries) redeliveries after the kill")
            #expect(log.uniqueCount == values.count, "no message lost")
            #expect(log.redeliveredAfterAck.isEmpty, "messages delivered again after a confirmed ack: \(log.redeliveredAfterAck.prefix(5))")
            #expect(redeliveries <= 500, "redeliveries are bounded by what was in flight at the kill")
            let newLeader = (await QueueAdmin.describe(queue, askingNode: survivors[0]))?["partitions"]?.arrayValue?.first?["leader"]?.int64Value
            #expect(newLeader != nil && newLeader != Int64(victim))
        }
    }
}
