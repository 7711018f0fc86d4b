import MOMCore
import Raft
import Simulation
import Testing

/// The CI campaign: thousands of seeds, each a full fault phase plus healing and a liveness
/// check, split into chunks so Swift Testing runs them in parallel. Any failure prints its seed
/// and the schedule; `MOM_SEED=<n> swift test --filter SimulationTests` replays it exactly.
@Suite struct SimulationCampaignTests {
    static let chunkCount: UInt64 = 8
    static let seedsPerChunk: UInt64 = 250

    @Test(arguments: 0..<SimulationCampaignTests.chunkCount)
    func seedsPass(chunk: UInt64) {
        let first = chunk * SimulationCampaignTests.seedsPerChunk
        let seeds = TestSeed.replay.map { chunk == 0 ? [$0] : [] } ?? Array(first..<(first + SimulationCampaignTests.seedsPerChunk))
        for seed in seeds {
            let report = Simulator.run(seed: seed)
            #expect(report.passed, "\(report)")
            if !report.passed { return }
        }
    }
}
