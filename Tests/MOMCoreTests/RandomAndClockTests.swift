import Testing
@testable import MOMCore

@Suite struct RandomAndClockTests {
    @Test func seededRandomReplaysExactly() {
        var a = SeededRandom(seed: 42)
        var b = SeededRandom(seed: 42)
        var c = SeededRandom(seed: 43)
        let sa = (0..<100).map { _ in a.next() }
        let sb = (0..<100).map { _ in b.next() }
        let sc = (0..<100).map { _ in c.next() }
        #expect(sa == sb)
        #expect(sa != sc)
    }

    @Test func uniformStaysInRangeAndCoversIt() {
        var random = SeededRandom(seed: 1)
        var seen = Set<UInt64>()
        for _ in 0..<10_000 {
            let v = random.uniform(below: 10)
            #expect(v < 10)
            seen.insert(v)
        }
        #expect(seen.count == 10)
        for _ in 0..<1000 {
            let v = random.uniform(in: -3...3)
            #expect((-3...3).contains(v))
        }
    }

    @Test func manualClockMovesOnlyWhenAdvanced() {
        let clock = ManualClock(startNanoseconds: 5, wallOriginMilliseconds: 1000)
        #expect(clock.monotonicNanoseconds() == 5)
        clock.advance(byMilliseconds: 3)
        #expect(clock.monotonicNanoseconds() == 3_000_005)
        #expect(clock.wallMilliseconds() == 1003)
    }

    @Test func typedIDsOrderAndStep() {
        #expect(LogIndex(3).next == LogIndex(4))
        #expect(LogIndex(4).previous == LogIndex(3))
        #expect(Offset(10).distance(to: Offset(15)) == 5)
        #expect(Term(1) < Term(2))
        #expect(NodeID(3).description == "n3")
    }
}
