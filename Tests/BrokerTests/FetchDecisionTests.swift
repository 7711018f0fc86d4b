import MOMCore
import Testing
@testable import Broker

/// Every position of a fetch offset against a replica's bounds, on a leader and on a follower.
@Suite struct FetchDecisionTests {
    /// What a follower forwards keeps every parameter but the wait, which it may lower.
    @Test func aForwardedFetchCarriesTheWaitThatIsLeft() {
        #expect(BrokerAPI.query("offset=7&wait_ms=5000&max_records=10", setting: "wait_ms", to: "0") == "offset=7&max_records=10&wait_ms=0")
        #expect(BrokerAPI.query("offset=7", setting: "wait_ms", to: "0") == "offset=7&wait_ms=0")
        #expect(BrokerAPI.query(nil, setting: "wait_ms", to: "0") == "wait_ms=0")
        #expect(BrokerAPI.query("wait_ms=1&wait_ms=2&x=wait_ms", setting: "wait_ms", to: "3") == "x=wait_ms&wait_ms=3")
    }

    /// An offset no client can hold (above Int64.max) is a 400, not an overflow in the server.
    @Test func anOffsetAboveInt64MaxIsRefused() async throws {
        let (node, router) = try await ExchangeRouteTests.setUp(topics: [("t", 1)])
        for offset in ["18446744073709551615", "9223372036854775808"] {
            let (status, body) = await SingleNodeTests.call(router, .get, "/v1/topics/t/partitions/0/records?offset=\(offset)")
            #expect(status == 400 && body?["error"]?["code"]?.stringValue == "bad_request", "\(offset): \(String(describing: body))")
        }
        let edge = await SingleNodeTests.call(router, .get, "/v1/topics/t/partitions/0/records?offset=9223372036854775807")
        #expect(edge.0 == 416 && edge.1?["error"]?["high_watermark"]?.uint64Value != nil, "\(String(describing: edge.1))")
        await node.stop()
    }

    private func decide(_ offset: UInt64, onLeader: Bool, confirmed: Bool = false, localOnly: Bool = false) -> FetchDecision {
        // Log start 10, high watermark 20, log end 25.
        FetchDecision.decide(
            offset: Offset(offset), logStart: Offset(10), highWatermark: Offset(20), logEnd: Offset(25),
            onLeader: onLeader, leadershipConfirmed: confirmed, localOnly: localOnly)
    }

    /// Retention runs on each replica, so a follower's log may start later than the leader's.
    /// Below the leader's log start needs no ReadIndex round: no leader commits there again.
    @Test func belowTheLogStartIsOutOfRangeOnTheLeaderAndAskedOfItElsewhere() {
        for offset in [0, 9] as [UInt64] {
            #expect(decide(offset, onLeader: true) == .outOfRange)
            #expect(decide(offset, onLeader: true, confirmed: true) == .outOfRange)
            #expect(decide(offset, onLeader: true, localOnly: true) == .outOfRange)
            #expect(decide(offset, onLeader: false) == .askLeader)
            #expect(decide(offset, onLeader: false, localOnly: true) == .outOfRange)
        }
    }

    @Test func fromTheLogStartToTheHighWatermarkIsServedEverywhere() {
        for offset in [10, 15, 19, 20] as [UInt64] {
            #expect(decide(offset, onLeader: true) == .serve)
            #expect(decide(offset, onLeader: false) == .serve)
            #expect(decide(offset, onLeader: false, localOnly: true) == .serve)
        }
    }

    /// The case seed 1515 found: a follower whose high watermark trails must not answer 416.
    @Test func pastAFollowersHighWatermarkAsksTheLeader() {
        for offset in [21, 25, 26, 1_000_000] as [UInt64] {
            #expect(decide(offset, onLeader: false) == .askLeader)
            #expect(decide(offset, onLeader: false, localOnly: true) == .outOfRange, "local=true reads this replica or nothing")
        }
    }

    @Test func onTheLeaderStoredButUncommittedWaitsAndPastTheLogEndIsOutOfRangeOnceConfirmed() {
        for offset in [21, 24, 25] as [UInt64] {
            #expect(decide(offset, onLeader: true) == .awaitCommit)
            #expect(decide(offset, onLeader: true, confirmed: true) == .awaitCommit)
            #expect(decide(offset, onLeader: true, localOnly: true) == .outOfRange, "local=true: this replica's committed log or 416")
        }
        for offset in [26, 1_000_000] as [UInt64] {
            // A leader cut off from the others may have been replaced: it confirms first.
            #expect(decide(offset, onLeader: true) == .confirmLeadership)
            #expect(decide(offset, onLeader: true, confirmed: true) == .outOfRange)
            #expect(decide(offset, onLeader: true, localOnly: true) == .outOfRange, "local=true reads this replica or nothing")
        }
    }
}
