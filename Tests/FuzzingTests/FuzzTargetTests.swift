import Foundation
import Fuzzing
import MOMCore
import Testing

/// The CI slice of the fuzzing campaign: a few thousand inputs per target from a fixed run seed,
/// so every CI run checks the same inputs (the long runs are `mom-bench fuzz`, docs/fuzzing.md).
/// A failure prints the input seed; `MOM_SEED=<input seed> swift test --filter FuzzingTests`
/// replays exactly that input on every target.
@Suite struct FuzzTargetTests {
    static let runSeed: UInt64 = 20_261_128
    static let inputsPerTarget: UInt64 = 2_000

    static var replaySeed: UInt64? {
        ProcessInfo.processInfo.environment["MOM_SEED"].flatMap { UInt64($0) }
    }

    @Test(arguments: FuzzTargetKind.allCases)
    func targetPassesItsCISlice(kind: FuzzTargetKind) {
        if let inputSeed = FuzzTargetTests.replaySeed {
            let finding = FuzzRunner.replay(kind, inputSeed: inputSeed)
            #expect(finding == nil, "\(kind.rawValue) input seed \(inputSeed): \(String(describing: finding))")
            return
        }
        // A manual clock never reaches the deadline: the slice is bounded by count alone, so
        // its outcome does not depend on machine load.
        let report = FuzzRunner.run(kind, seed: FuzzTargetTests.runSeed, iterationsMax: FuzzTargetTests.inputsPerTarget,
                                    secondsMax: 1, clock: ManualClock())
        #expect(report.iterations == FuzzTargetTests.inputsPerTarget)
        for failure in report.failures {
            Issue.record("\(kind.rawValue) \(failure); replay with MOM_SEED=\(failure.inputSeed) swift test --filter FuzzingTests")
        }
    }

    /// The runner is deterministic in its inputs: the same run seed gives the same input seeds,
    /// and different iterations get different ones.
    @Test func inputSeedsAreDeterministicAndDistinct() {
        let first = (0..<1_000).map { FuzzRunner.inputSeed(run: 7, iteration: $0) }
        let second = (0..<1_000).map { FuzzRunner.inputSeed(run: 7, iteration: $0) }
        #expect(first == second)
        #expect(Set(first).count == first.count)
        #expect(FuzzRunner.inputSeed(run: 8, iteration: 0) != first[0])
    }

    /// The mutator stays within its length bound and, from the same state, mutates the same way.
    @Test func mutatorIsBoundedAndDeterministic() {
        let mutator = ByteMutator(lengthMax: 64)
        let input = Array(0..<UInt8(60))
        var first = SeededRandom(seed: 3)
        var second = SeededRandom(seed: 3)
        var changed = 0
        for _ in 0..<2_000 {
            let one = mutator.mutate(input, other: input.reversed(), random: &first)
            let two = mutator.mutate(input, other: input.reversed(), random: &second)
            #expect(one == two)
            #expect(one.count <= 64)
            if one != input { changed += 1 }
        }
        #expect(changed > 1_800, "mutations rarely change the input: \(changed) of 2000")
    }
}
