import MOMCore
import Testing
@testable import Transport

@Suite struct ReconnectBackoffTests {
    let policy = ReconnectBackoff(initialDelayNanoseconds: 10_000_000, maximumDelayNanoseconds: 1_000_000_000)

    @Test func ceilingDoublesThenStaysAtTheMaximum() {
        #expect(policy.ceilingNanoseconds(afterFailures: 0) == 10_000_000)
        #expect(policy.ceilingNanoseconds(afterFailures: 1) == 20_000_000)
        #expect(policy.ceilingNanoseconds(afterFailures: 6) == 640_000_000)
        #expect(policy.ceilingNanoseconds(afterFailures: 7) == 1_000_000_000)
        #expect(policy.ceilingNanoseconds(afterFailures: 64) == 1_000_000_000)
        #expect(policy.ceilingNanoseconds(afterFailures: Int.max) == 1_000_000_000)
    }

    @Test func delaysStayWithinTheJitterBand() {
        let seed = testSeed()
        var random = SeededRandom(seed: seed)
        for failures in 0..<80 {
            for _ in 0..<50 {
                let ceiling = policy.ceilingNanoseconds(afterFailures: failures)
                let delay = policy.delayNanoseconds(afterFailures: failures, random: &random)
                #expect(delay >= ceiling / 2 && delay <= ceiling, "seed \(seed), failures \(failures), delay \(delay)")
            }
        }
    }

    @Test func sameSeedSameDelaysAndSeedsSpreadNodesApart() {
        let seed = testSeed()
        var first = SeededRandom(seed: seed)
        var second = SeededRandom(seed: seed)
        var other = SeededRandom(seed: seed &+ 1)
        let a = (0..<20).map { policy.delayNanoseconds(afterFailures: $0, random: &first) }
        let b = (0..<20).map { policy.delayNanoseconds(afterFailures: $0, random: &second) }
        let c = (0..<20).map { policy.delayNanoseconds(afterFailures: $0, random: &other) }
        #expect(a == b, "seed \(seed)")
        // Twenty draws from bands millions of nanoseconds wide colliding everywhere is impossible
        // for a working generator: jitter really de-synchronizes nodes.
        #expect(a != c, "seed \(seed)")
    }

    @Test func jitterCoversTheBand() {
        let seed = testSeed()
        var random = SeededRandom(seed: seed)
        let delays = (0..<1_000).map { _ in policy.delayNanoseconds(afterFailures: 3, random: &random) }
        // Band [40 ms, 80 ms]: draws land in both halves.
        #expect(delays.contains { $0 < 60_000_000 }, "seed \(seed)")
        #expect(delays.contains { $0 > 60_000_000 }, "seed \(seed)")
    }
}
