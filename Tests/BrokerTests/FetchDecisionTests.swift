import MOMCore
import Testing
@testable import Broker

/// Every position of a fetch offset against a replica's bounds, on a leader and on a follower.
@Suite struct FetchDecisionTests {
    private func decide(_ offset: UInt64, onLeader: Bool, localOnly: Bool = false) -> FetchDecision {
        // Log start 10, high watermark 20, log end 25.
        FetchDecision.decide(offset: Offset(offset), logStart: Offset(10), highWatermark: Offset(20), logEnd: Offset(25), onLeader: onLeader, localOnly: localOnly)
    }

    @Test func belowTheLogStartIsOutOfRangeEverywhere() {
        for onLeader in [true, false] {
            for localOnly in [true, false] {
                #expect(decide(9, onLeader: onLeader, localOnly: localOnly) == .outOfRange)
                #expect(decide(0, onLeader: onLeader, localOnly: localOnly) == .outOfRange)
            }
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

    @Test func onTheLeaderStoredButUncommittedWaitsAndPastTheLogEndIsOutOfRange() {
        for offset in [21, 24, 25] as [UInt64] {
            #expect(decide(offset, onLeader: true) == .awaitCommit)
            #expect(decide(offset, onLeader: true, localOnly: true) == .awaitCommit)
        }
        for offset in [26, 1_000_000] as [UInt64] {
            #expect(decide(offset, onLeader: true) == .outOfRange)
        }
    }
}
