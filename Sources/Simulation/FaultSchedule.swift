import MOMCore

/// The faults one seed injects, drawn from the seed (swarm testing, as VOPR does: each seed
/// gets its own mix of rates, so rare combinations such as "no drops but many crashes" occur).
/// Rates are per tick unless stated; `PerMil` means per thousand.
public struct FaultSchedule: Equatable, Sendable, CustomStringConvertible {
    /// Which family of schedules to draw from.
    public enum Kind: String, Sendable {
        /// Everything, at random rates.
        case swarm
        /// Frequent leader crashes and isolations with steady proposals: the Figure 8 scenario,
        /// where entries of old terms sit on a minority while leadership moves.
        case leaderChurn
    }

    /// 3 or 5 voters.
    public var nodeCount: Int
    /// Drop, duplicate and delay (reorder) rates.
    public var network: NetworkFaults
    /// Chance that a partition forms (when none is in force).
    public var partitionPerMil: UInt64
    /// Longest partition.
    public var partitionTicksMax: UInt64
    /// Chance that a node crashes outside Ready handling.
    public var crashPerMil: UInt64
    /// Chance, per Ready handled, of a crash at a random step of the pipeline.
    public var crashInReadyPerMil: UInt64
    /// Share of crashes and isolations aimed at the current leader.
    public var leaderTargetPercent: UInt64
    /// Chance that a newly elected leader is struck (crashed or isolated) within
    /// `strikeDelayTicksMax` ticks: leaves its fresh entries on a minority, the Figure 8 setup.
    public var newLeaderStrikePercent: UInt64
    /// Chance that a leader crashes after persisting, before sending, a Ready that advanced its
    /// commit index (so its followers learn neither the commit nor the entries after it).
    public var commitCrashPercent: UInt64
    /// Share of strikes that isolate rather than crash: isolation also cuts the messages the
    /// leader already sent.
    public var strikeIsolationPercent: UInt64
    /// Longest delay before striking a new leader.
    public var strikeDelayTicksMax: UInt64
    /// Longest time a crashed node stays down.
    public var downTicksMax: UInt64
    /// Chance that clients propose (1 to 3 values) in a tick.
    public var proposalPercent: UInt64
    /// Chance of a leadership transfer request.
    public var transferPerMil: UInt64
    /// Chance that a node snapshots and compacts its log.
    public var compactionPerMil: UInt64
    /// Entries a compaction must drop at least.
    public var compactionGap: UInt64
    /// Chance of a membership change (demote a voter to learner or promote it back; 5 nodes only).
    public var membershipPerMil: UInt64
    /// Raft's entry bytes per append. 1 sends one entry per append, so followers acknowledge
    /// old-term entries separately from the new leader's no-op (what Figure 8 needs).
    public var messageBytesMax: Int
    /// Raft's pipelining window per follower.
    public var inflightMessagesMax: Int
    /// Raft's pre-vote switch.
    public var preVote: Bool
    /// Raft's check-quorum (leader lease) switch.
    public var checkQuorum: Bool

    /// Draws a schedule of `kind`.
    public static func draw(_ kind: Kind, random: inout SeededRandom) -> FaultSchedule {
        func pick(_ choices: [UInt64]) -> UInt64 { choices[Int(random.uniform(below: UInt64(choices.count)))] }
        let nodeCount = random.chance(1, in: 2) ? 3 : 5
        let delayMax = pick([1, 2, 3, 5, 8])
        let network = NetworkFaults(
            dropPercent: pick([0, 1, 5, 10, 25]), duplicatePercent: pick([0, 1, 5, 15]),
            delayTicksMin: 1, delayTicksMax: delayMax)
        var schedule = FaultSchedule(
            nodeCount: nodeCount, network: network,
            partitionPerMil: pick([0, 5, 20, 50]), partitionTicksMax: pick([10, 30, 80]),
            crashPerMil: pick([0, 5, 15, 40]), crashInReadyPerMil: pick([0, 2, 10, 30]),
            leaderTargetPercent: pick([0, 30, 70]), newLeaderStrikePercent: pick([0, 0, 10, 30]),
            commitCrashPercent: pick([0, 0, 0, 5]), strikeIsolationPercent: 50, strikeDelayTicksMax: pick([1, 5, 20]), downTicksMax: pick([5, 20, 60]),
            proposalPercent: pick([10, 40, 80]), transferPerMil: pick([0, 5, 20]),
            compactionPerMil: pick([0, 10, 50]), compactionGap: pick([2, 8, 30]),
            membershipPerMil: nodeCount == 5 ? pick([0, 10, 30]) : 0,
            messageBytesMax: Int(pick([1, 64, 256, 1 << 20])), inflightMessagesMax: Int(pick([1, 4, 64])),
            preVote: random.uniform(below: 4) != 0, checkQuorum: random.uniform(below: 4) != 0)
        if kind == .leaderChurn {
            schedule.network = NetworkFaults(dropPercent: pick([0, 5]), duplicatePercent: 0, delayTicksMin: 1, delayTicksMax: pick([1, 2, 3]))
            schedule.partitionPerMil = pick([30, 80])
            schedule.partitionTicksMax = pick([10, 25])
            schedule.crashPerMil = pick([20, 50])
            schedule.crashInReadyPerMil = pick([5, 20])
            schedule.leaderTargetPercent = pick([70, 90])
            schedule.proposalPercent = pick([60, 90])
            schedule.newLeaderStrikePercent = pick([50, 70])
            schedule.strikeDelayTicksMax = pick([0, 1, 2])
            schedule.commitCrashPercent = pick([20, 40])
            schedule.strikeIsolationPercent = 90
            schedule.messageBytesMax = 1
            schedule.nodeCount = 3
            // Classic Raft, as in the paper: pre-vote and the leader lease would keep the stale
            // leaders of Figure 8 from being elected again.
            schedule.preVote = false
            schedule.checkQuorum = false
            schedule.membershipPerMil = 0
            schedule.downTicksMax = pick([5, 10])
        }
        return schedule
    }

    /// One line, for failure reports.
    public var description: String {
        "nodes=\(nodeCount) drop=\(network.dropPercent)% dup=\(network.duplicatePercent)% delay=\(network.delayTicksMin)-\(network.delayTicksMax) "
            + "partition=\(partitionPerMil)‰/\(partitionTicksMax)t crash=\(crashPerMil)‰ crashInReady=\(crashInReadyPerMil)‰ "
            + "leaderTarget=\(leaderTargetPercent)% strike=\(newLeaderStrikePercent)%/\(strikeDelayTicksMax)t commitCrash=\(commitCrashPercent)% down=\(downTicksMax)t propose=\(proposalPercent)% transfer=\(transferPerMil)‰ "
            + "compact=\(compactionPerMil)‰/gap\(compactionGap) membership=\(membershipPerMil)‰ "
            + "messageBytes=\(messageBytesMax) inflight=\(inflightMessagesMax) preVote=\(preVote) checkQuorum=\(checkQuorum)"
    }
}
