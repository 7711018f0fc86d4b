import MOMCore
@testable import Raft

/// A small seeded fault-injection harness for RawNode: random delivery order, drops,
/// duplicates, partitions, crashes with restart from storage, compaction, proposals and
/// membership changes, with safety checks after every step and a liveness check at the end.
/// (The Simulation module's simulator is the full version; this one keeps the Raft module
/// honest on its own.)
final class RandomizedCluster {
    struct Node {
        let storage: MemoryStorage
        var raw: RawNode
        var config: RaftConfig
        /// The last index this node's state machine applied (or restored from a snapshot).
        var lastApplied: LogIndex
    }

    var random: SeededRandom
    let seed: UInt64
    var nodes: [NodeID: Node] = [:]
    var mailbox: [Message] = []
    /// Nodes cut off from everyone else, when a partition is in force.
    var isolated: Set<NodeID> = []
    var leaderOfTerm: [Term: NodeID] = [:]
    /// The first entry applied anywhere at each index: every other node must apply the same.
    var appliedAt: [LogIndex: Entry] = [:]
    var violations: [String] = []
    var proposals = 0
    static let mailboxMax = 4_096

    init(seed: UInt64, voters: Int, spares: Int, plantedBugs: PlantedBugs = []) throws {
        self.seed = seed
        random = SeededRandom(seed: seed)
        let voterIDs = Set((1...UInt64(voters)).map(NodeID.init))
        let start = Snapshot(metadata: SnapshotMetadata(index: LogIndex(1), term: Term(1), configuration: Configuration(voters: voterIDs)))
        for raw in 1...UInt64(voters + spares) {
            var config = RaftConfig(id: NodeID(raw))
            config.plantedBugs = plantedBugs
            config.inflightMessagesMax = 4
            config.messageBytesMax = 64
            let storage = raw <= UInt64(voters) ? MemoryStorage(snapshot: start) : MemoryStorage()
            let node = try RawNode(config: config, storage: storage, random: SeededRandom(seed: seed &* 31 &+ raw))
            nodes[NodeID(raw)] = Node(storage: storage, raw: node, config: config, lastApplied: try storage.firstIndex().previous)
        }
    }

    var ids: [NodeID] { nodes.keys.sorted() }

    func randomNode() -> NodeID { ids[Int(random.uniform(below: UInt64(ids.count)))] }

    func canTalk(_ a: NodeID, _ b: NodeID) -> Bool { isolated.contains(a) == isolated.contains(b) }

    // MARK: One random step

    func step(faults: Bool) throws {
        switch random.uniform(below: 100) {
        case 0..<30: nodes[randomNode()]!.raw.tick()
        case 30..<60: deliverOne(faults: faults)
        case 60..<80: try handleReady(randomNode())
        case 80..<88: propose()
        case 88..<90: proposeConfigChange()
        case 90..<93: try compact(randomNode())
        case 93..<96 where faults: repartition()
        case 96..<98 where faults: try restart(randomNode())
        default: break
        }
    }

    private func deliverOne(faults: Bool) {
        guard !mailbox.isEmpty else { return }
        let position = Int(random.uniform(below: UInt64(mailbox.count)))
        let message = mailbox.remove(at: position)
        if faults && random.chance(1, in: 10) { return }  // lost
        if faults && random.chance(1, in: 20) && mailbox.count < RandomizedCluster.mailboxMax { mailbox.append(message) }  // duplicated
        guard canTalk(message.from, message.to), let node = nodes[message.to] else { return }
        try? node.raw.step(message)
    }

    func handleReady(_ id: NodeID) throws {
        guard nodes[id]!.raw.hasReady() else { return }
        let node = nodes[id]!
        let ready = node.raw.ready()
        if let soft = ready.softState, soft.role == .leader {
            let term = node.raw.status.hardState.term
            if let other = leaderOfTerm[term], other != id {
                violations.append("two leaders in \(term): \(other) and \(id)")
            }
            leaderOfTerm[term] = id
        }
        if let snapshot = ready.snapshot {
            try node.storage.applySnapshot(snapshot)
            nodes[id]!.lastApplied = snapshot.metadata.index
        }
        try node.storage.append(ready.entries)
        if let hardState = ready.hardState { node.storage.setHardState(hardState) }
        for message in ready.messages where mailbox.count < RandomizedCluster.mailboxMax { mailbox.append(message) }
        for entry in ready.committedEntries { apply(entry, on: id) }
        // Inputs may arrive while a Ready is out (a host with asynchronous persistence).
        if random.chance(1, in: 4), let position = mailbox.firstIndex(where: { $0.to == id && canTalk($0.from, id) }) {
            try? node.raw.step(mailbox.remove(at: position))
        }
        node.raw.advance(ready)
    }

    private func apply(_ entry: Entry, on id: NodeID) {
        if entry.index != nodes[id]!.lastApplied.next {
            violations.append("\(id) applied \(entry.index) after \(nodes[id]!.lastApplied)")
        }
        nodes[id]!.lastApplied = entry.index
        if let first = appliedAt[entry.index] {
            if first != entry {
                violations.append("index \(entry.index): \(id) applied term \(entry.term) but term \(first.term) was applied elsewhere")
            }
        } else {
            appliedAt[entry.index] = entry
        }
    }

    // MARK: Inputs and faults

    var leader: NodeID? {
        ids.first { nodes[$0]!.raw.basicStatus.role == .leader && !isolated.contains($0) }
            ?? ids.first { nodes[$0]!.raw.basicStatus.role == .leader }
    }

    func propose() {
        guard let leader else { return }
        proposals += 1
        try? nodes[leader]!.raw.propose(Array("p\(proposals)".utf8))
    }

    private func proposeConfigChange() {
        guard let leader else { return }
        let target = randomNode()
        let change: ConfigChange
        switch random.uniform(below: 3) {
        case 0: change = .addLearner(target)
        case 1: change = .addVoter(target)
        default: change = .removeNode(target)
        }
        // Keep the leader and at least three voters, so the group stays live under faults.
        if case .removeNode = change, target == leader || nodes[leader]!.raw.status.configuration.voters.count <= 3 { return }
        if case .addLearner = change, nodes[leader]!.raw.status.configuration.voters.count <= 3 { return }
        try? nodes[leader]!.raw.proposeConfigChange(change)
    }

    private func compact(_ id: NodeID) throws {
        let node = nodes[id]!
        let status = node.raw.status
        let first = try node.storage.firstIndex()
        guard status.applied.rawValue >= first.rawValue + 4 else { return }
        try node.storage.createSnapshot(at: status.applied, configuration: status.configuration, data: [])
        try node.storage.compact(upTo: status.applied)
    }

    private func repartition() {
        if !isolated.isEmpty && random.chance(1, in: 2) {
            isolated = []
            return
        }
        isolated = Set(ids.filter { _ in random.chance(1, in: 3) })
    }

    /// A crash: what the node persisted survives; a Ready not yet persisted (and so not yet
    /// sent) is lost with it.
    func restart(_ id: NodeID) throws {
        var node = nodes[id]!
        if node.raw.hasReady() { _ = node.raw.ready() }
        node.config.applied = try node.storage.snapshot().metadata.index
        node.raw = try RawNode(config: node.config, storage: node.storage, random: SeededRandom(seed: random.next()))
        node.lastApplied = try node.storage.firstIndex().previous
        nodes[id] = node
    }

    // MARK: Liveness

    /// With faults healed, a leader must emerge and commit a new entry on every member.
    func converge(roundsMax: Int) throws -> Bool {
        isolated = []
        let marker = Array("final".utf8)
        for _ in 0..<roundsMax {
            for id in ids { nodes[id]!.raw.tick() }
            try exchangeUntilQuiet()
            guard let leader else { continue }
            let status = nodes[leader]!.raw.status
            if let index = appliedAt.first(where: { $0.value.data == marker })?.key {
                if status.configuration.members.allSatisfy({ nodes[$0]!.lastApplied >= index }) { return true }
            } else if status.hardState.commit == status.lastIndex {
                // Nothing in flight: (re)propose. A stale leader's copy may have been overwritten.
                try? nodes[leader]!.raw.propose(marker)
            }
        }
        return false
    }

    /// Log Matching on the committed prefix: every pair of nodes holds the same entries at
    /// every committed index both still store.
    func committedLogsDiffer() throws -> [String] {
        var differences: [String] = []
        let reference = try committedEntries(of: ids[0])
        for id in ids.dropFirst() {
            for (index, entry) in try committedEntries(of: id) {
                if let other = reference[index], other != entry { differences.append("\(id) differs from \(ids[0]) at \(index)") }
            }
        }
        return differences
    }

    private func committedEntries(of id: NodeID) throws -> [LogIndex: Entry] {
        let node = nodes[id]!
        let first = try node.storage.firstIndex()
        let commit = min(node.storage.hardState.commit, try node.storage.lastIndex())
        guard first <= commit else { return [:] }
        let entries = try node.storage.entries(from: first, to: commit.next, maxBytes: .max)
        return Dictionary(uniqueKeysWithValues: entries.map { ($0.index, $0) })
    }

    private func exchangeUntilQuiet() throws {
        for _ in 0..<20 {
            var moved = false
            for id in ids where nodes[id]!.raw.hasReady() {
                try handleReady(id)
                moved = true
            }
            let batch = mailbox
            mailbox = []
            for message in batch { try? nodes[message.to]?.raw.step(message) }
            if !moved && mailbox.isEmpty { return }
        }
    }
}
