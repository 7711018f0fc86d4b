import MOMCore
import Raft

/// What clients and operators do to the cluster: proposals, transfers, compaction, membership
/// changes, partitions.
extension SimulatedCluster {
    /// Proposes `data` on the leader (if any). Returns whether a leader accepted it; refusals
    /// (not leader, transfer in progress, limits) are normal operating conditions.
    @discardableResult
    public func propose(_ data: [UInt8]) -> Bool {
        guard let leader, let raw = nodes[position(of: leader)!].raw else { return false }
        do {
            try raw.propose(data)
            return true
        } catch {
            return false
        }
    }

    /// Proposes `payloads` as one batch on the leader (if any); all or nothing.
    @discardableResult
    public func propose(batch payloads: [[UInt8]]) -> Bool {
        guard let leader, let raw = nodes[position(of: leader)!].raw else { return false }
        do {
            try raw.propose(contentsOf: payloads)
            return true
        } catch {
            return false
        }
    }

    /// Asks the leader to hand leadership to `transferee`.
    public func transferLeadership(to transferee: NodeID) {
        guard let leader, leader != transferee, let raw = nodes[position(of: leader)!].raw else { return }
        raw.transferLeadership(to: transferee)
    }

    /// Snapshots `id`'s state machine at its applied index and compacts the log before it, when
    /// at least `gap` entries would go.
    public func compact(_ id: NodeID, gap: UInt64) {
        let node = nodes[position(of: id)!]
        guard let raw = node.raw else { return }
        let status = raw.status
        let applied = node.stateMachine.appliedIndex
        precondition(status.applied == applied, "\(id): Raft applied \(status.applied), state machine \(applied)")
        let log = node.storage.written
        guard applied.rawValue >= log.snapshotIndex.rawValue + gap, let term = log.term(at: applied) else { return }
        let metadata = SnapshotMetadata(index: applied, term: term, configuration: status.configuration)
        node.storage.compact(to: Snapshot(metadata: metadata, data: node.stateMachine.snapshotData))
    }

    /// Demotes a voter to learner or promotes a learner back, keeping at least `votersMin`
    /// voters and never touching the leader, so every node stays a member and the group stays live.
    public func changeMembership(target: NodeID, votersMin: Int) {
        guard let leader, leader != target, let raw = nodes[position(of: leader)!].raw else { return }
        let configuration = raw.status.configuration
        let change: ConfigChange
        if configuration.learners.contains(target) {
            change = .addVoter(target)
        } else if configuration.voters.contains(target) && configuration.voters.count > votersMin {
            change = .addLearner(target)
        } else {
            return
        }
        try? raw.proposeConfigChange(change)
    }

    /// Splits the nodes into sides (by position); messages across sides are lost.
    public func partition(sides: [Int]) { network.partition(sides: sides) }

    /// Restores every link.
    public func healNetwork() { network.heal() }

    /// Whether a partition is in force.
    public var isPartitioned: Bool { network.isPartitioned }

    /// Changes the network's fault rates.
    public func setNetworkFaults(_ faults: NetworkFaults) { network.faults = faults }

    /// Draws from the simulation's one random source (for schedules built on top).
    public func draw(below upperBound: UInt64) -> UInt64 { random.uniform(below: upperBound) }

    /// True with probability `numerator / denominator`, from the one random source.
    public func chance(_ numerator: UInt64, in denominator: UInt64) -> Bool {
        numerator > 0 && random.chance(numerator, in: denominator)
    }

    /// Runs the end-of-run and periodic checks over every node's logs: log matching across
    /// written images, and the committed prefix of every durable image.
    public func checkLogs() {
        checker.now = now
        checker.checkLogMatching(nodes.map { (node: $0.id, log: $0.storage.written) })
        for node in nodes { checker.checkCommittedPrefix(of: node.id, log: node.storage.durable) }
    }

    /// Records a liveness failure.
    public func failLiveness(_ detail: String) {
        checker.now = now
        checker.fail(.liveness, detail)
    }

    /// The configuration the leader (or else the first live node) has applied.
    public var configuration: Configuration? {
        if let leader, let raw = nodes[position(of: leader)!].raw { return raw.status.configuration }
        return nodes.first { $0.isUp }?.raw?.status.configuration
    }
}
