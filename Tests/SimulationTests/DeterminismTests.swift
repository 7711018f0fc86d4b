import MOMCore
import Raft
import Simulation
import Testing

/// A seed replays exactly: same schedule, same ticks, same commits, same message counts.
@Suite struct DeterminismTests {
    @Test(arguments: [false, true])
    func sameSeedSameRun(asyncStorageWrites: Bool) {
        var options = SimulationOptions()
        options.asyncStorageWrites = asyncStorageWrites
        for seed in TestSeed.seeds(0..<5) {
            let first = Simulator.run(seed: seed, options: options)
            let second = Simulator.run(seed: seed, options: options)
            #expect(first.schedule == second.schedule)
            #expect(first.ticks == second.ticks)
            #expect(first.committedIndex == second.committedIndex)
            #expect(first.network == second.network)
            #expect(first.crashes == second.crashes)
            #expect(first.violation == second.violation)
        }
    }

    @Test func seedsDiffer() {
        let reports = (0..<8).map { Simulator.run(seed: UInt64($0)) }
        let distinct = Set(reports.map { "\($0.network.sent)/\($0.committedIndex)/\($0.crashes)" })
        #expect(distinct.count > 4)
    }

    /// The runs actually inject faults and make progress (a simulator that does nothing passes
    /// every safety check).
    @Test func faultsHappenAndEntriesCommit() {
        var crashes = 0
        var dropped: UInt64 = 0
        var duplicated: UInt64 = 0
        var cut: UInt64 = 0
        var committed: UInt64 = 0
        var snapshots = 0
        var configChanges = 0
        for seed in 0..<20 as Range<UInt64> {
            let report = Simulator.run(seed: seed)
            crashes += report.crashes
            dropped += report.network.dropped
            duplicated += report.network.duplicated
            cut += report.network.cut
            committed += report.committedIndex.rawValue
            snapshots += report.snapshotsInstalled
            configChanges += report.configChangesApplied
            #expect(report.ticksToRecover != nil, "\(report)")
        }
        #expect(crashes > 20)
        #expect(dropped > 0 && duplicated > 0 && cut > 0)
        #expect(committed > 20 * 20)
        #expect(snapshots > 0, "no follower ever installed a snapshot")
        #expect(configChanges > 0, "no membership change was ever applied")
    }
}
