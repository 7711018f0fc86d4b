import Testing
@testable import HistoryChecker

/// Each test breaks the good history in exactly one way and expects exactly that class (and
/// the good history itself must pass), so a checker that reports nothing, or everything, fails.
@Suite struct HistoryCheckerTests {
    private func anomalies(_ history: HistoryBuilder) -> [Anomaly.Kind: Int] {
        HistoryChecker().check(history.events).anomalyCounts
    }

    @Test func goodHistoryPasses() {
        let report = HistoryChecker().check(HistoryBuilder.good().events)
        #expect(report.isValid, "\(report.rendered())")
        #expect(report.operations["produce"]?["ok"] == 3)
        #expect(report.operations["produce"]?["info"] == 1)
        #expect(report.operations["fetch"]?["ok"] == 2)
        #expect(report.faults["kill"] == 1)
        #expect(report.rendered().contains("VALID: no anomaly"))
    }

    @Test func lostAcknowledgedWrite() {
        var history = HistoryBuilder.good()
        history.produce("d", offset: 5, sequence: 4)
        #expect(anomalies(history)[.lostWrite] == 1)
    }

    @Test func duplicateOfAnIdempotentWrite() {
        var history = HistoryBuilder()
        history.produce("a", offset: 1)
        let log: [(UInt64, String)] = [(1, "a"), (2, "a")]
        history.fetch(from: 0, log)
        history.final(node: 1, log)
        #expect(anomalies(history) == [.duplicate: 1])
    }

    @Test func inconsistentOffsetFromAReader() {
        var history = HistoryBuilder.good()
        history.fetch(from: 4, [(4, "z")], process: 11)
        #expect(anomalies(history) == [.inconsistentOffset: 1])
    }

    @Test func nonMonotonicRead() {
        var history = HistoryBuilder.good()
        history.fetch(from: 5, [(2, "b")])
        #expect(anomalies(history) == [.nonMonotonicRead: 1])
    }

    @Test func readGoingBackWithinOneFetch() {
        var history = HistoryBuilder.good()
        history.fetch(from: 0, [(2, "b"), (1, "a")], next: 3, process: 12)
        #expect(anomalies(history)[.nonMonotonicRead] == 1)
    }

    @Test func skippedRead() {
        var history = HistoryBuilder.good()
        history.fetch(from: 0, [(1, "a"), (4, "c")], process: 11)
        #expect(anomalies(history) == [.skippedRead: 1])
    }

    @Test func nextOffsetSteppingOverACommittedRecord() {
        var history = HistoryBuilder.good()
        history.fetch(from: 0, [(1, "a")], next: 3, process: 11)
        #expect(anomalies(history) == [.skippedRead: 1])
    }

    @Test func abortedReadOfAFailedWrite() {
        var history = HistoryBuilder.good()
        history.produce("f", offset: nil, outcome: .fail, sequence: 5)
        history.fetch(from: 5, [(5, "f")])
        #expect(anomalies(history) == [.abortedRead: 1])
    }

    @Test func failedThenRetriedSuccessfullyIsNotAborted() {
        var history = HistoryBuilder()
        history.produce("a", offset: nil, outcome: .fail)
        history.produce("a", offset: 1)
        history.fetch(from: 0, [(1, "a")])
        history.final(node: 1, [(1, "a")])
        #expect(anomalies(history).isEmpty)
    }

    @Test func refusedRetryOfATimedOutWriteIsNotAborted() {
        var history = HistoryBuilder()
        history.produce("a", offset: nil, outcome: .info)
        history.produce("a", offset: nil, outcome: .fail)
        history.fetch(from: 0, [(1, "a")])
        history.final(node: 1, [(1, "a")])
        #expect(anomalies(history).isEmpty)
    }

    @Test func acknowledgedWriteNoConsumerSaw() {
        var history = HistoryBuilder()
        history.produce("a", offset: 1)
        history.produce("b", offset: 2)
        history.fetch(from: 0, [(1, "a")], next: 2)
        history.final(node: 1, [(1, "a"), (2, "b")])
        #expect(anomalies(history) == [.unseenWrite: 1])
    }

    @Test func replicasWithDifferentBytes() {
        var history = HistoryBuilder.good()
        history.final(node: 4, [(1, "a"), (2, "b")], digest: "other")
        #expect(anomalies(history) == [.replicaDivergence: 1])
    }

    @Test func replicasWithDifferentValues() {
        var history = HistoryBuilder.good()
        history.final(node: 4, [(1, "a"), (2, "q")])
        let found = anomalies(history)
        #expect(found[.replicaDivergence] == 1)
        #expect(found[.inconsistentOffset] == 1)
    }

    @Test func unreadableReplica() {
        var history = HistoryBuilder.good()
        var line = HistoryEvent(type: .final)
        line.node = 5
        line.topic = "t"
        line.partition = 0
        line.error = "connection refused"
        history.events.append(line)
        #expect(anomalies(history) == [.replicaUnreadable: 1])
    }

    @Test func queueMessageLostAndOverDelivered() {
        var history = HistoryBuilder()
        var config = HistoryEvent(type: .config)
        config.queueMaxDeliveries = 2
        history.events.append(config)
        for value in ["m1", "m2"] {
            var sent = HistoryEvent(type: .ok)
            sent.f = "enqueue"
            sent.queue = "q"
            sent.value = value
            history.events.append(sent)
        }
        for count in 1...3 {
            var received = HistoryEvent(type: .ok)
            received.f = "receive"
            received.queue = "q"
            received.messages = [QueueDelivery(receipt: "r\(count)", partition: 0, offset: 1, value: "m1", deliveryCount: count)]
            history.events.append(received)
        }
        var drained = HistoryEvent(type: .finalQueue)
        drained.queue = "q"
        drained.deadLetters = []
        history.events.append(drained)
        #expect(anomalies(history) == [.queueLost: 1, .queueOverDelivered: 1])
    }

    @Test func queueWithinItsBoundsPasses() {
        var history = HistoryBuilder()
        var config = HistoryEvent(type: .config)
        config.queueMaxDeliveries = 2
        history.events.append(config)
        var sent = HistoryEvent(type: .ok)
        sent.f = "enqueue"
        sent.queue = "q"
        sent.value = "m1"
        history.events.append(sent)
        var received = HistoryEvent(type: .ok)
        received.f = "receive"
        received.queue = "q"
        received.messages = [QueueDelivery(receipt: "r", partition: 0, offset: 1, value: "m1", deliveryCount: 2)]
        history.events.append(received)
        var drained = HistoryEvent(type: .finalQueue)
        drained.deadLetters = []
        history.events.append(drained)
        #expect(anomalies(history).isEmpty)
    }

    @Test func firstCommittedSearch() {
        let offsets: [UInt64] = [1, 2, 4, 9]
        #expect(HistoryChecker.firstCommitted(in: 3..<4, of: offsets) == nil)
        #expect(HistoryChecker.firstCommitted(in: 3..<5, of: offsets) == 4)
        #expect(HistoryChecker.firstCommitted(in: 0..<1, of: offsets) == nil)
        #expect(HistoryChecker.firstCommitted(in: 5..<100, of: offsets) == 9)
        #expect(HistoryChecker.firstCommitted(in: 10..<100, of: offsets) == nil)
    }
}
