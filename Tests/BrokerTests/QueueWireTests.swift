import HTTPServer
import MOMCore
import Testing
@testable import Broker

/// The pure helpers of the queue routes: wire formats read back what they write, the claim
/// deadline query, counters, and offset runs.
@Suite struct QueueWireTests {
    @Test func receivedMessagesRoundTrip() throws {
        let messages = [
            ClaimedMessage(receipt: QueueReceipt(partition: PartitionID(2), offset: Offset(40), deliveryCount: 3, claimID: 0xABCD),
                           record: DataRecord(timestampMilliseconds: 9, key: [0xFF], value: Array("text".utf8), headers: [Header("h", Array("v".utf8))])),
            ClaimedMessage(receipt: QueueReceipt(partition: PartitionID(0), offset: Offset(1), deliveryCount: 1, claimID: 1),
                           record: DataRecord(timestampMilliseconds: 10, key: nil, value: [0xFF, 0x00])),
        ]
        let response = QueueWire.response(messages)
        let json = try JSONValue(parsing: response.body)
        let first = try #require(json["messages"]?.arrayValue?.first)
        #expect(first["receipt"]?.stringValue == "1-2-40-3-000000000000abcd")
        #expect(first["key_base64"]?.stringValue == "/w==")
        #expect(first["value"]?.stringValue == "text")
        #expect(first["delivery_count"]?.int64Value == 3)
        let parsed = try #require(QueueWire.messages(from: response.body))
        #expect(parsed.map(\.receipt) == messages.map(\.receipt))
        #expect(parsed.map(\.record) == messages.map(\.record))
        #expect(QueueWire.messages(from: Array(#"{"messages":[{"receipt":"x","value":"v"}]}"#.utf8)) == nil)
        #expect(QueueWire.messages(from: Array("{}".utf8)) == nil)
    }

    @Test func ackSummaryRoundTrip() throws {
        let outcomes: [QueueAckOutcome] = [.acknowledged, .stale, .unknown, .acknowledged]
        let response = QueueAckSummary.response(outcomes)
        let json = try JSONValue(parsing: response.body)
        #expect(json["acknowledged"]?.int64Value == 2)
        #expect(json["stale"]?.int64Value == 1)
        #expect(json["unknown"]?.int64Value == 1)
        #expect(QueueAckSummary.outcomes(from: response.body) == outcomes)
        #expect(QueueAckSummary.outcomes(from: Array(#"{"results":["maybe"]}"#.utf8)) == nil)
    }

    @Test func nextDeadlineAndStatistics() {
        var log = QueueLog(maxDeliveries: 2)
        log.produce(4)
        #expect(log.state.nextDeadlineMilliseconds(after: 0) == nil)
        _ = log.claim([Offset(0)], id: 1, at: 100, timeout: 50)
        _ = log.claim([Offset(1)], id: 2, at: 100, timeout: 20)
        #expect(log.state.nextDeadlineMilliseconds(after: 100) == 120)
        #expect(log.state.nextDeadlineMilliseconds(after: 120) == 150, "an expired claim is no longer a deadline ahead")
        #expect(log.state.nextDeadlineMilliseconds(after: 150) == nil)
        #expect(log.state.statistics(nowMilliseconds: 110) == QueuePartitionStatistics(depth: 2, inFlight: 2, deadLettered: 0, acknowledged: 0))
        #expect(log.ack([(Offset(0), 1)]) == [.acknowledged])
        #expect(log.state.statistics(nowMilliseconds: 130) == QueuePartitionStatistics(depth: 3, inFlight: 0, deadLettered: 0, acknowledged: 1),
                "an expired claim counts as waiting again")
        let total = QueuePartitionStatistics(depth: 1, inFlight: 2, deadLettered: 3, acknowledged: 4) + QueuePartitionStatistics(depth: 10, inFlight: 20, deadLettered: 30, acknowledged: 40)
        #expect(total == QueuePartitionStatistics(depth: 11, inFlight: 22, deadLettered: 33, acknowledged: 44))
    }

    @Test func contiguousRuns() {
        #expect(BrokerNode.contiguousRuns([]) == [])
        #expect(BrokerNode.contiguousRuns([3, 4, 5, 9, 11, 12].map(Offset.init)) == [3..<6, 9..<10, 11..<13])
    }
}
