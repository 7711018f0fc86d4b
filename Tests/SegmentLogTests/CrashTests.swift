import Glibc
import MOMCore
import Testing
@testable import SegmentLog

/// The seeded crash campaign. `MOM_SEED=<n>` replays one seed; `MOM_CRASH_SEEDS=<n>` changes
/// how many seeds run (default 1,000).
@Suite("SegmentLog crash recovery")
struct CrashTests {
    static func seeds() -> [UInt64] {
        if let text = getenv("MOM_SEED"), let seed = UInt64(String(cString: text)) { return [seed] }
        let count = getenv("MOM_CRASH_SEEDS").flatMap { UInt64(String(cString: $0)) } ?? 1_000
        return Array(0..<count)
    }

    @Test func everyFlushedBatchSurvivesEveryCrash() {
        var failures = 0
        for seed in Self.seeds() {
            var simulation = CrashSimulation(seed: seed)
            if let problem = simulation.run() {
                failures += 1
                Issue.record("seed \(seed): \(problem) — replay with MOM_SEED=\(seed)")
                if failures >= 5 { break }
            }
        }
    }

    /// Proves the checker has teeth: with checksums skipped during recovery, torn batches are
    /// accepted, and the campaign must notice on some seed.
    @Test func brokenRecoveryIsCaught() {
        var caught: (UInt64, String)?
        for seed in UInt64(0)..<2_000 {
            var simulation = CrashSimulation(seed: seed, brokenRecovery: true)
            if let problem = simulation.run() {
                caught = (seed, problem)
                break
            }
        }
        #expect(caught != nil, "a recovery that skips checksums passed 2,000 crash seeds")
        if let caught { print("broken recovery caught at seed \(caught.0): \(caught.1)") }
    }
}
