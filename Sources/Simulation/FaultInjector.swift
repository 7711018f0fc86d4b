import MOMCore
import Raft

/// Drives a `SimulatedCluster` through one `FaultSchedule`: clients, crashes, partitions,
/// transfers, compaction and membership changes during the fault phase; then heals everything
/// and checks liveness.
struct FaultInjector {
    let cluster: SimulatedCluster
    let schedule: FaultSchedule
    let options: SimulationOptions
    private var partitionEndTick: UInt64 = 0
    private var nextProposalID: UInt64 = 1
    /// The last leader seen, to notice elections.
    private var lastLeaderTerm: Term?
    /// A scheduled strike on a new leader: when, and whom.
    private var strike: (tick: UInt64, target: NodeID)?
    /// Liveness markers use ids from here, apart from client proposals.
    static let markerIDBase: UInt64 = 1 << 62
    /// Markers proposed so far, over every liveness phase (each marker id is used once).
    private var markersProposed: UInt64 = 0

    init(cluster: SimulatedCluster, schedule: FaultSchedule, options: SimulationOptions) {
        self.cluster = cluster
        self.schedule = schedule
        self.options = options
    }

    mutating func runFaultPhase() throws {
        cluster.leaderCommitCrashPercent = schedule.commitCrashPercent
        defer { cluster.leaderCommitCrashPercent = 0 }
        while cluster.now < options.faultTicks {
            injectFaults()
            try cluster.tick(crashPerMil: schedule.crashInReadyPerMil, downTicksMax: schedule.downTicksMax)
            if cluster.now % options.logCheckIntervalTicks == 0 { cluster.checkLogs() }
            if cluster.firstViolation != nil { return }
        }
    }

    private mutating func injectFaults() {
        if cluster.chance(schedule.proposalPercent, in: 100) {
            for _ in 0...cluster.draw(below: 3) {
                cluster.propose(ClientProposal(id: nextProposalID).encoded())
                nextProposalID += 1
            }
        }
        if cluster.isPartitioned {
            if cluster.now >= partitionEndTick { cluster.healNetwork() }
        } else if cluster.chance(schedule.partitionPerMil, in: 1000) {
            cluster.partition(sides: drawPartition())
            partitionEndTick = cluster.now + 1 + cluster.draw(below: schedule.partitionTicksMax)
        }
        if cluster.chance(schedule.crashPerMil, in: 1000), let target = drawTarget() {
            cluster.crash(target, downTicksMax: schedule.downTicksMax)
        }
        strikeNewLeaders()
        if cluster.chance(schedule.transferPerMil, in: 1000) {
            cluster.transferLeadership(to: randomNode())
        }
        if cluster.chance(schedule.compactionPerMil, in: 1000) {
            cluster.compact(randomNode(), gap: schedule.compactionGap)
        }
        if cluster.chance(schedule.membershipPerMil, in: 1000) {
            cluster.changeMembership(target: randomNode(), votersMin: 3)
        }
    }

    /// Notices elections and, per the schedule, crashes or isolates the new leader a few ticks
    /// later, before its no-op and proposals reach a majority.
    private mutating func strikeNewLeaders() {
        if let current = cluster.leaderAndTerm, current.term != lastLeaderTerm {
            lastLeaderTerm = current.term
            if cluster.chance(schedule.newLeaderStrikePercent, in: 100) {
                strike = (cluster.now + cluster.draw(below: schedule.strikeDelayTicksMax + 1), current.leader)
            }
        }
        guard let planned = strike, planned.tick <= cluster.now else { return }
        strike = nil
        guard cluster.isUp(planned.target) else { return }
        if !cluster.chance(schedule.strikeIsolationPercent, in: 100) {
            cluster.crash(planned.target, downTicksMax: schedule.downTicksMax)
        } else {
            cluster.partition(sides: cluster.ids.map { $0 == planned.target ? 1 : 0 })
            partitionEndTick = cluster.now + 1 + cluster.draw(below: schedule.partitionTicksMax)
        }
    }

    private func randomNode() -> NodeID {
        cluster.ids[Int(cluster.draw(below: UInt64(cluster.ids.count)))]
    }

    /// The leader (with `leaderTargetPercent` chance, if there is one) or a random live node.
    private func drawTarget() -> NodeID? {
        if let leader = cluster.leader, cluster.chance(schedule.leaderTargetPercent, in: 100) { return leader }
        let live = cluster.ids.filter { cluster.isUp($0) }
        return live.isEmpty ? nil : live[Int(cluster.draw(below: UInt64(live.count)))]
    }

    /// Either the leader (or one node) alone, or a random split.
    private func drawPartition() -> [Int] {
        let count = cluster.ids.count
        if let target = drawTarget(), cluster.chance(1, in: 2) {
            return cluster.ids.map { $0 == target ? 1 : 0 }
        }
        return (0..<count).map { _ in Int(cluster.draw(below: 2)) }
    }

    /// Heals the network, restarts every node and stops faults; then a leader must be known
    /// within `leaderTicksMax`, a fresh proposal must commit within `livenessTicksMax`, and
    /// every node must apply it within `convergenceTicksMax`. Both bounds grow by two ticks per
    /// entry of backlog at healing: with one-entry appends and one append in flight, a follower
    /// catches up one entry per round trip (two ticks), and the marker commits only after the
    /// entries before it. Returns the ticks until the commit.
    mutating func runLivenessPhase() throws -> UInt64? {
        cluster.healNetwork()
        cluster.setNetworkFaults(.reliable)
        try cluster.restartAll()
        let healTick = cluster.now
        let highest = cluster.highestLastIndex.rawValue
        let uncommittedBacklog = highest - min(highest, cluster.checker.committedIndex.rawValue)
        let unappliedBacklog = highest - min(highest, cluster.lowestAppliedIndex.rawValue)
        let commitTicksMax = options.livenessTicksMax + 2 * uncommittedBacklog
        let convergenceTicksMax = options.convergenceTicksMax + 2 * unappliedBacklog
        var leaderTick: UInt64?
        var commitTick: UInt64?
        var markers: [UInt64] = []
        var nextMarkerTick = healTick
        while cluster.now < healTick + convergenceTicksMax {
            try cluster.tick()
            if cluster.firstViolation != nil { return nil }
            if leaderTick == nil && cluster.leader != nil { leaderTick = cluster.now }
            if commitTick == nil && markers.contains(where: { cluster.checker.committedIndex(ofProposal: $0) != nil }) {
                commitTick = cluster.now
            }
            if commitTick == nil, cluster.leader != nil, cluster.now >= nextMarkerTick {
                // A marker can be lost with a deposed leader: propose a fresh one now and then.
                let id = FaultInjector.markerIDBase + markersProposed
                if cluster.propose(ClientProposal(id: id).encoded()) {
                    markers.append(id)
                    markersProposed += 1
                }
                nextMarkerTick = cluster.now + UInt64(2 * options.electionTicks)
            }
            if markers.contains(where: { appliedEverywhere(marker: $0) }) { break }
        }
        cluster.checkLogs()
        let since = { (tick: UInt64?) in tick.map { String($0 - healTick) } ?? "never" }
        guard let leaderTick, leaderTick - healTick <= options.leaderTicksMax else {
            cluster.failLiveness("no leader within \(options.leaderTicksMax) ticks of healing (first: \(since(leaderTick)))")
            return nil
        }
        guard let commitTick, commitTick - healTick <= commitTicksMax else {
            cluster.failLiveness("no proposal committed within \(commitTicksMax) ticks of healing (backlog \(uncommittedBacklog) entries; first: \(since(commitTick)), \(markers.count) markers proposed)")
            return nil
        }
        guard markers.contains(where: { appliedEverywhere(marker: $0) }) else {
            cluster.failLiveness("a committed proposal was not applied on every node within \(convergenceTicksMax) ticks of healing")
            return nil
        }
        return commitTick - healTick
    }

    /// Quiescence runs only, after a passed liveness phase: with no proposals and no faults, the
    /// leader and every member must quiesce within `quiesceTicksMax`; then the leader is cut off
    /// (if the others still form a majority), and the others, whose election clocks stand still,
    /// must elect a leader within `leaderTicksMax`: only their liveness reports can wake them.
    /// Returns false after recording a liveness failure.
    mutating func runQuiescencePhase() throws -> Bool {
        let start = cluster.now
        let quiesceTicksMax = UInt64(10 * options.electionTicks)
        var quiet: (leader: NodeID, members: [NodeID])?
        while quiet == nil && cluster.now < start + quiesceTicksMax {
            try cluster.tick()
            if cluster.firstViolation != nil { return false }
            guard let leader = cluster.leader, let configuration = cluster.configuration(of: leader) else { continue }
            let members = configuration.members
            if members.allSatisfy({ cluster.isQuiesced($0) }) { quiet = (leader, members) }
        }
        guard let quiet else {
            cluster.failLiveness("the idle cluster did not quiesce within \(quiesceTicksMax) ticks")
            return false
        }
        let others = quiet.members.filter { $0 != quiet.leader }
        let voters = cluster.configuration(of: quiet.leader)!.voters
        guard voters.subtracting([quiet.leader]).count * 2 > voters.count else { return true }
        cluster.partition(sides: cluster.ids.map { $0 == quiet.leader ? 1 : 0 })
        let cutTick = cluster.now
        while cluster.now < cutTick + options.leaderTicksMax {
            try cluster.tick()
            if cluster.firstViolation != nil { return false }
            if others.contains(where: { cluster.leader == $0 }) { return true }
        }
        cluster.failLiveness("quiesced followers cut off from their leader elected none within \(options.leaderTicksMax) ticks")
        return false
    }

    private func appliedEverywhere(marker: UInt64) -> Bool {
        guard let index = cluster.checker.committedIndex(ofProposal: marker) else { return false }
        return cluster.ids.allSatisfy { cluster.appliedIndex(of: $0) >= index }
    }
}
