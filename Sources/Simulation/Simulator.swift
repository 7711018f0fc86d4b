import MOMCore
import Raft

/// How long a simulated run lasts and what it must achieve.
public struct SimulationOptions: Sendable {
    /// Ticks of fault injection.
    public var faultTicks: UInt64 = 300
    /// After healing, a leader must be known within this many ticks.
    public var leaderTicksMax: UInt64 = 150
    /// After healing, a proposal must commit within this many ticks.
    public var livenessTicksMax: UInt64 = 300
    /// After healing, that proposal must be applied on every node within this many ticks.
    public var convergenceTicksMax: UInt64 = 1_500
    /// TEST-ONLY Raft bugs to plant, to show the checkers catch them.
    public var plantedBugs: PlantedBugs = []
    /// Which family of fault schedules to draw from.
    public var scheduleKind: FaultSchedule.Kind = .swarm
    /// Raft election timeout (ticks).
    public var electionTicks = 10
    /// Raft heartbeat interval (ticks).
    public var heartbeatTicks = 1
    /// Ticks between log-matching sweeps during the fault phase.
    public var logCheckIntervalTicks: UInt64 = 50
    /// Hosts sync entries after advancing their Ready, at a random later tick (momd's
    /// `--storage-writes async`); append and vote responses wait for that sync.
    public var asyncStorageWrites = false
    /// Idle leaders quiesce their groups (RaftConfig.quiesce) and nodes report peers they cannot
    /// hear from for an election timeout (momd's node-level liveness).
    public var quiesce = false

    /// The defaults: 300 fault ticks; after healing, a leader within 150 ticks, a commit within
    /// 300, applied everywhere within 1,500.
    public init() {}
}

/// The outcome of one seed.
public struct SimulationReport: Sendable, CustomStringConvertible {
    /// The seed that replays this run.
    public var seed: UInt64
    /// The faults it drew.
    public var schedule: FaultSchedule
    /// The first violation, nil when the run passed.
    public var violation: SafetyViolation?
    /// Simulated ticks run.
    public var ticks: UInt64
    /// Highest index known committed.
    public var committedIndex: LogIndex
    /// Leader elections seen.
    public var leadersElected: Int
    /// Node crashes.
    public var crashes: Int
    /// Snapshots followers installed from a leader.
    public var snapshotsInstalled = 0
    /// Membership changes applied (summed over nodes).
    public var configChangesApplied = 0
    /// Message counters.
    public var network: NetworkStatistics
    /// Ticks from healing until a proposal committed (nil when it never did).
    public var ticksToRecover: UInt64?
    /// Node-ticks spent quiesced (zero unless `SimulationOptions.quiesce`).
    public var quiescedNodeTicks: UInt64 = 0

    /// Whether every check passed.
    public var passed: Bool { violation == nil }

    /// "seed 42 FAILED: ..." with the schedule and replay instructions, or a one-line summary.
    public var description: String {
        let summary = "seed \(seed): \(ticks) ticks, commit \(committedIndex), \(leadersElected) leaders, \(crashes) crashes, "
            + "\(snapshotsInstalled) snapshots installed, \(configChangesApplied) config changes applied, "
            + "\(network.delivered) delivered, \(network.dropped) dropped, commit \(ticksToRecover.map(String.init) ?? "-") ticks after healing"
        guard let violation else { return summary }
        return "seed \(seed) FAILED: \(violation)\n  schedule: \(schedule)\n  \(summary)\n  replay: MOM_SEED=\(seed)"
    }
}

/// Runs one seeded simulation (VOPR-style): a fault phase drawn from the seed, then healing and
/// a liveness check. Deterministic: the same seed and options give the same report.
public enum Simulator {
    /// Runs `seed`. Never throws: host errors become violations, so every failure has a seed.
    public static func run(seed: UInt64, options: SimulationOptions = SimulationOptions()) -> SimulationReport {
        var seedRandom = SeededRandom(seed: seed)
        let schedule = FaultSchedule.draw(options.scheduleKind, random: &seedRandom)
        var report = SimulationReport(
            seed: seed, schedule: schedule, violation: nil, ticks: 0, committedIndex: .zero, leadersElected: 0,
            crashes: 0, network: NetworkStatistics(), ticksToRecover: nil)
        do {
            let cluster = try SimulatedCluster(
                nodeCount: schedule.nodeCount, seed: seedRandom.next(), network: schedule.network,
                asyncStorageWrites: options.asyncStorageWrites,
                peerSilentTicksMax: options.quiesce ? UInt64(options.electionTicks) : nil
            ) {
                $0.quiesce = options.quiesce
                $0.plantedBugs = options.plantedBugs
                $0.electionTicks = options.electionTicks
                $0.heartbeatTicks = options.heartbeatTicks
                // Small windows, drawn per seed, so flow control, probing and batching are exercised.
                $0.inflightMessagesMax = schedule.inflightMessagesMax
                $0.messageBytesMax = schedule.messageBytesMax
                $0.preVote = schedule.preVote
                $0.checkQuorum = schedule.checkQuorum
                // Bounds the backlog a leader accepts, so catching up after healing is bounded
                // even with one-entry appends (and the limit itself is exercised).
                $0.uncommittedBytesMax = 1024
            }
            var run = FaultInjector(cluster: cluster, schedule: schedule, options: options)
            try run.runFaultPhase()
            if cluster.firstViolation == nil { report.ticksToRecover = try run.runLivenessPhase() }
            // Quiesce, cut the leader off, then heal again: the liveness phase must pass twice.
            if options.quiesce && cluster.firstViolation == nil {
                if try run.runQuiescencePhase() { _ = try run.runLivenessPhase() }
            }
            report.violation = cluster.firstViolation
            report.ticks = cluster.now
            report.committedIndex = cluster.checker.committedIndex
            report.leadersElected = cluster.leadersElected
            report.crashes = cluster.crashes
            report.network = cluster.networkStatistics
            report.snapshotsInstalled = cluster.snapshotsInstalled
            report.configChangesApplied = cluster.configChangesApplied
            report.quiescedNodeTicks = cluster.quiescedNodeTicks
        } catch {
            report.violation = SafetyViolation(.liveness, tick: report.ticks, "host error: \(error)")
        }
        return report
    }
}
