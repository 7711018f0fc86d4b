import MOMCore
import Raft
import Simulation
import Testing

/// The checkers can fail: with a known Raft bug planted, the simulator reports a safety
/// violation within a small seed budget. (The budgets are generous: the first catching seed is
/// far below them.)
@Suite struct PlantedBugTests {
    /// Returns the first failing report among `seeds`.
    func firstFailure(_ seeds: Range<UInt64>, options: SimulationOptions) -> SimulationReport? {
        for seed in TestSeed.seeds(seeds) {
            let report = Simulator.run(seed: seed, options: options)
            if !report.passed { return report }
        }
        return nil
    }

    /// Figure 8: a leader that commits an earlier term's entry by counting replicas lets a later
    /// leader overwrite it. Found by the leader-churn schedule (Classic Raft, one-entry appends,
    /// new leaders isolated, leaders crashing right after committing).
    @Test func commitPreviousTermEntriesIsCaught() throws {
        var options = SimulationOptions()
        options.plantedBugs = .commitPreviousTermEntries
        options.scheduleKind = .leaderChurn
        options.faultTicks = 1_000
        let report = try #require(firstFailure(0..<100, options: options), "planted Figure 8 bug not caught in 100 seeds")
        let violation = try #require(report.violation)
        #expect(violation.property != .liveness, "\(report)")
    }

    /// A voter that skips the up-to-date check elects leaders without committed entries.
    @Test func voteWithoutLogCheckIsCaught() throws {
        var options = SimulationOptions()
        options.plantedBugs = .voteWithoutLogCheck
        let report = try #require(firstFailure(0..<100, options: options), "planted vote bug not caught in 100 seeds")
        let violation = try #require(report.violation)
        #expect(violation.property != .liveness, "\(report)")
    }

    /// The same schedules without the bug pass, so the catches above are the bug's doing.
    @Test func sameSchedulesPassWithoutTheBug() {
        var options = SimulationOptions()
        options.scheduleKind = .leaderChurn
        options.faultTicks = 1_000
        for seed in TestSeed.seeds(0..<5) {
            let report = Simulator.run(seed: seed, options: options)
            #expect(report.passed, "\(report)")
        }
    }
}
