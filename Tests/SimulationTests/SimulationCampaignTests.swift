import MOMCore
import Raft
import Simulation
import Testing

/// The CI campaign: thousands of seeds, each a fault phase drawn from the seed (drops,
/// duplicates, reordering, partitions, crashes at every step of the Ready pipeline, leader
/// strikes, transfers, compaction, membership changes), then healing and a liveness check.
/// Chunks run in parallel. A failure prints its seed and schedule; replay it exactly with
/// `MOM_SEED=<n> swift test --filter SimulationTests` (or `scripts/simulate` with MOM_SEED).
@Suite struct SimulationCampaignTests {
    static let chunkCount: UInt64 = 8
    /// 8 x 250 = 2,000 swarm seeds.
    static let swarmSeedsPerChunk: UInt64 = 250
    /// 8 x 13 = 104 leader-churn seeds (Classic Raft, targeted leader crashes).
    static let churnSeedsPerChunk: UInt64 = 13
    /// 8 x 100 = 800 swarm seeds with asynchronous storage writes (momd's default), from seed
    /// 1,000,000 so they are not the synchronous run's schedules again.
    static let asyncSeedsPerChunk: UInt64 = 100
    static let asyncFirstSeed: UInt64 = 1_000_000
    /// 8 x 100 = 800 swarm seeds with quiescence and node-level liveness (momd's default), half
    /// of them with asynchronous storage writes, from seed 2,000,000.
    static let quiesceSeedsPerChunk: UInt64 = 100
    static let quiesceFirstSeed: UInt64 = 2_000_000

    /// Fault phases (100 ticks, i.e. 5 to 10 election timeouts, then healing and up to 300
    /// liveness ticks) are shorter than the long campaign's 300, to fit the CI budget in debug
    /// builds: about 25 ms of CPU per seed here.
    static var options: SimulationOptions {
        var options = SimulationOptions()
        options.faultTicks = 100
        return options
    }

    @Test(arguments: 0..<SimulationCampaignTests.chunkCount)
    func swarmSeedsPass(chunk: UInt64) {
        run(chunk: chunk, seedsPerChunk: SimulationCampaignTests.swarmSeedsPerChunk, kind: .swarm)
    }

    @Test(arguments: 0..<SimulationCampaignTests.chunkCount)
    func leaderChurnSeedsPass(chunk: UInt64) {
        run(chunk: chunk, seedsPerChunk: SimulationCampaignTests.churnSeedsPerChunk, kind: .leaderChurn)
    }

    /// Entries synced at a random tick after their Ready was advanced, append and vote
    /// responses held until then, crashes losing whatever was not synced yet.
    @Test(arguments: 0..<SimulationCampaignTests.chunkCount)
    func asyncStorageWritesSeedsPass(chunk: UInt64) {
        run(chunk: chunk, seedsPerChunk: SimulationCampaignTests.asyncSeedsPerChunk, kind: .swarm,
            firstSeed: SimulationCampaignTests.asyncFirstSeed, asyncStorageWrites: true)
    }

    /// Idle leaders quiesce, so followers stop their election clocks; a partition or a crash
    /// must still lead to an election through the nodes' liveness reports, and healing to a
    /// commit everywhere.
    @Test(arguments: 0..<SimulationCampaignTests.chunkCount)
    func quiescenceSeedsPass(chunk: UInt64) {
        run(chunk: chunk, seedsPerChunk: SimulationCampaignTests.quiesceSeedsPerChunk, kind: .swarm,
            firstSeed: SimulationCampaignTests.quiesceFirstSeed, asyncStorageWrites: chunk % 2 == 1, quiesce: true)
    }

    func run(
        chunk: UInt64, seedsPerChunk: UInt64, kind: FaultSchedule.Kind, firstSeed: UInt64 = 0,
        asyncStorageWrites: Bool = false, quiesce: Bool = false
    ) {
        var options = SimulationCampaignTests.options
        options.scheduleKind = kind
        options.asyncStorageWrites = asyncStorageWrites
        options.quiesce = quiesce
        let first = firstSeed + chunk * seedsPerChunk
        let seeds = TestSeed.replay.map { chunk == 0 ? [$0] : [] } ?? Array(first..<(first + seedsPerChunk))
        CrashReporter.install()
        let slot = Int(chunk) + (quiesce ? 3 : asyncStorageWrites ? 2 : kind == .swarm ? 0 : 1) * Int(SimulationCampaignTests.chunkCount)
        defer { CrashReporter.running(UInt64.max, slot: slot) }
        var quiescedRuns = 0
        for seed in seeds {
            CrashReporter.running(seed, slot: slot)
            let report = Simulator.run(seed: seed, options: options)
            #expect(report.passed, "\(kind.rawValue)\(asyncStorageWrites ? " async" : "")\(quiesce ? " quiesce" : "") \(report)")
            if !report.passed { return }
            if report.quiescedNodeTicks > 0 { quiescedRuns += 1 }
        }
        if quiesce && seeds.count > 1 {
            // Faults keep some runs too busy to quiesce, but most must: else nothing was tested.
            #expect(quiescedRuns * 2 > seeds.count, "only \(quiescedRuns) of \(seeds.count) runs quiesced")
        }
    }
}
