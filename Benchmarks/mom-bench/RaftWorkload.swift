import Glibc
import MOMCore
import Raft
import Simulation
import SystemIO

/// Two workloads over the Simulation module, self-contained so they plug into any dispatcher:
///
/// - `mom-bench raft [--messages N] [--size BYTES] [--batch N] [--duration SEC] [--json]`:
///   an in-process 3-node Raft cluster over the simulated network with zero delay; measures
///   committed proposals per second (the Raft core plus the host pipeline, no disk, no sockets).
/// - `mom-bench simulate [--seeds N] [--first-seed S] [--schedule swarm|leaderChurn]
///   [--planted-bug commitPreviousTermEntries|voteWithoutLogCheck] [--fault-ticks T] [--storage-writes sync|async]`:
///   a long deterministic-simulation campaign; `MOM_SEED=<n>` replays one seed verbosely.
///   Exit status 1 when any seed fails; every failure prints its seed.
enum RaftWorkload {
    /// Runs the workload named by `arguments[0]`; returns the exit status (2 for usage errors).
    static func main(_ arguments: [String]) -> Int32 {
        guard let workload = arguments.first else { return usage("missing workload") }
        var flags: [String: String] = [:]
        var index = 1
        while index < arguments.count {
            let flag = arguments[index]
            guard flag.hasPrefix("--") else { return usage("unexpected argument '\(flag)'") }
            if flag == "--json" {
                flags[flag] = "true"
            } else {
                guard index + 1 < arguments.count else { return usage("\(flag) needs a value") }
                flags[flag] = arguments[index + 1]
                index += 1
            }
            index += 1
        }
        switch workload {
        case "raft": return runBenchmark(flags)
        case "simulate": return runCampaign(flags)
        default: return usage("unknown workload '\(workload)'")
        }
    }

    static let usageText = """
        usage: mom-bench raft [--messages N] [--size BYTES] [--batch N] [--duration SEC] [--json]
               mom-bench simulate [--seeds N] [--first-seed S] [--schedule swarm|leaderChurn]
                                  [--planted-bug commitPreviousTermEntries|voteWithoutLogCheck] [--fault-ticks T]
                                  [--storage-writes sync|async]
               MOM_SEED=<n> mom-bench simulate   replays seed n and prints its report
        """

    static func usage(_ problem: String) -> Int32 {
        print("mom-bench: \(problem)\n\(usageText)")
        return 2
    }

    static func positive(_ flags: [String: String], _ flag: String, default value: Int) -> Int? {
        guard let text = flags[flag] else { return value }
        guard let number = Int(text), number > 0 else { return nil }
        return number
    }

    static let knownBenchmarkFlags: Set<String> = ["--messages", "--size", "--batch", "--duration", "--json"]
    static let knownCampaignFlags: Set<String> = ["--seeds", "--first-seed", "--schedule", "--planted-bug", "--fault-ticks", "--storage-writes"]

    // MARK: mom-bench raft

    static func runBenchmark(_ flags: [String: String]) -> Int32 {
        if let unknown = flags.keys.sorted().first(where: { !knownBenchmarkFlags.contains($0) }) { return usage("unknown flag \(unknown)") }
        guard let messages = positive(flags, "--messages", default: 100_000),
              let size = positive(flags, "--size", default: 1024), size >= 9,
              let batch = positive(flags, "--batch", default: 256),
              let durationSeconds = positive(flags, "--duration", default: 120)
        else { return usage("--messages, --batch and --duration need positive integers; --size at least 9") }
        do {
            let result = try benchmark(messages: messages, size: size, batch: batch, durationSeconds: durationSeconds)
            let seconds = Double(result.nanoseconds) / 1e9
            let rate = Double(result.committed) / seconds
            let megabytes = rate * Double(size) / 1_048_576
            print("workload   raft (3 nodes, in-process, zero-delay simulated network)")
            print("messages   \(result.committed) x \(size) B in batches of \(batch)")
            print("seconds    \(seconds)")
            print("msgs/s     \(Int(rate))")
            print("MB/s       \(megabytes)")
            if flags["--json"] != nil {
                print("{\"workload\":\"raft\",\"messages\":\(result.committed),\"size\":\(size),\"batch\":\(batch),\"seconds\":\(seconds),\"msgs_per_s\":\(rate),\"mb_per_s\":\(megabytes)}")
            }
            return result.committed == messages ? 0 : 1
        } catch {
            print("mom-bench raft: \(error)")
            return 1
        }
    }

    struct BenchmarkError: Error, CustomStringConvertible {
        let description: String
    }

    /// Proposes `messages` payloads of `size` bytes, `batch` at a time, waiting for each batch to
    /// commit on the leader before the next; stops early at `durationSeconds`.
    static func benchmark(messages: Int, size: Int, batch: Int, durationSeconds: Int) throws -> (committed: Int, nanoseconds: UInt64) {
        let zeroDelay = NetworkFaults(delayTicksMin: 0, delayTicksMax: 0)
        let cluster = try SimulatedCluster(nodeCount: 3, seed: 1, network: zeroDelay, messagesInFlightMax: 1 << 20)
        for _ in 0..<1_000 where cluster.leader == nil {
            try cluster.tick()
            try cluster.settle()
        }
        guard cluster.leader != nil else { throw BenchmarkError(description: "no leader elected within 1000 ticks") }
        let clock = SystemClock()
        let start = clock.monotonicNanoseconds()
        let deadline = start + UInt64(durationSeconds) * 1_000_000_000
        var committed = 0
        var nextID: UInt64 = 1
        while committed < messages && clock.monotonicNanoseconds() < deadline {
            let count = min(batch, messages - committed)
            let payloads = (0..<UInt64(count)).map { ClientProposal(id: nextID + $0).encoded(sizeBytes: size) }
            guard cluster.propose(batch: payloads) else {
                throw BenchmarkError(description: "the leader refused the batch starting at proposal \(nextID)")
            }
            nextID += UInt64(count)
            try cluster.settle()
            guard cluster.checker.committedIndex(ofProposal: nextID - 1) != nil else {
                throw BenchmarkError(description: "batch ending at proposal \(nextID - 1) did not commit")
            }
            if let violation = cluster.firstViolation { throw BenchmarkError(description: "\(violation)") }
            committed += count
            // Snapshot and compact like a real host, so the simulated disks (value images
            // copied on sync) stay small and the run measures Raft, not an ever-growing array.
            for id in cluster.ids { cluster.compact(id, gap: 512) }
        }
        return (committed, clock.monotonicNanoseconds() - start)
    }

    // MARK: mom-bench simulate

    static func runCampaign(_ flags: [String: String]) -> Int32 {
        if let unknown = flags.keys.sorted().first(where: { !knownCampaignFlags.contains($0) }) { return usage("unknown flag \(unknown)") }
        guard let seeds = positive(flags, "--seeds", default: 1_000),
              let faultTicks = positive(flags, "--fault-ticks", default: 300)
        else { return usage("--seeds and --fault-ticks need positive integers") }
        guard let firstSeed = UInt64(flags["--first-seed"] ?? "0") else { return usage("--first-seed needs an unsigned integer") }
        var options = SimulationOptions()
        options.faultTicks = UInt64(faultTicks)
        switch flags["--schedule"] ?? "swarm" {
        case "swarm": options.scheduleKind = .swarm
        case "leaderChurn": options.scheduleKind = .leaderChurn
        default: return usage("--schedule is swarm or leaderChurn")
        }
        switch flags["--storage-writes"] ?? "sync" {
        case "sync": options.asyncStorageWrites = false
        case "async": options.asyncStorageWrites = true
        default: return usage("--storage-writes is sync or async")
        }
        switch flags["--planted-bug"] {
        case nil: break
        case "commitPreviousTermEntries": options.plantedBugs = .commitPreviousTermEntries
        case "voteWithoutLogCheck": options.plantedBugs = .voteWithoutLogCheck
        default: return usage("--planted-bug is commitPreviousTermEntries or voteWithoutLogCheck")
        }
        if let text = getenv("MOM_SEED").map({ String(cString: $0) }) {
            guard let seed = UInt64(text) else { return usage("MOM_SEED must be an unsigned integer") }
            CrashReporter.install()
            CrashReporter.running(seed, slot: 0)
            let report = Simulator.run(seed: seed, options: options)
            print(report)
            print("schedule: \(report.schedule)")
            return report.passed ? 0 : 1
        }
        return campaign(firstSeed: firstSeed, seeds: UInt64(seeds), options: options)
    }

    static func campaign(firstSeed: UInt64, seeds: UInt64, options: SimulationOptions) -> Int32 {
        let clock = SystemClock()
        let start = clock.monotonicNanoseconds()
        var failures: [UInt64] = []
        var ticks: UInt64 = 0
        var slowestRecovery: UInt64 = 0
        var slowestSeed = firstSeed
        CrashReporter.install()
        for seed in firstSeed..<(firstSeed + seeds) {
            CrashReporter.running(seed, slot: 0)
            let report = Simulator.run(seed: seed, options: options)
            ticks += report.ticks
            if let ticks = report.ticksToRecover, ticks > slowestRecovery {
                slowestRecovery = ticks
                slowestSeed = seed
            }
            if !report.passed {
                failures.append(seed)
                print(report)
            }
            let done = seed - firstSeed + 1
            if done % 1_000 == 0 {
                let elapsed = Double(clock.monotonicNanoseconds() - start) / 1e9
                print("progress: \(done)/\(seeds) seeds, \(failures.count) failed, \(elapsed) s")
            }
        }
        let seconds = Double(clock.monotonicNanoseconds() - start) / 1e9
        print("simulate: seeds \(firstSeed)..<\(firstSeed + seeds) (\(seeds)), schedule \(options.scheduleKind.rawValue), "
            + "planted \(options.plantedBugs.rawValue), storage writes \(options.asyncStorageWrites ? "async" : "sync"), \(ticks) ticks, slowest commit after healing \(slowestRecovery) ticks (seed \(slowestSeed)), "
            + "\(failures.count) failed, \(seconds) s")
        if !failures.isEmpty { print("failed seeds: \(failures.prefix(50).map(String.init).joined(separator: " "))") }
        return failures.isEmpty ? 0 : 1
    }
}
