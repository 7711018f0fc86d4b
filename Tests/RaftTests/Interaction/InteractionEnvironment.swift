import MOMCore
@testable import Raft

/// One node in a scripted test: a RawNode over MemoryStorage, and a toy state machine that
/// records the data of applied entries.
final class InteractionNode {
    let id: NodeID
    let storage: MemoryStorage
    var config: RaftConfig
    var raw: RawNode
    /// Applied normal entries' data, in order (the state machine).
    var values: [(index: LogIndex, value: String)] = []
    var restarts: UInt64 = 0

    init(id: NodeID, storage: MemoryStorage, config: RaftConfig, seed: UInt64) throws {
        self.id = id
        self.storage = storage
        self.config = config
        self.raw = try RawNode(config: config, storage: storage, random: SeededRandom(seed: seed))
    }
}

/// Drives RawNodes the way an application would (persist, send, apply, advance), with a
/// mailbox, partitions and message drops under script control (etcd's rafttest interaction env).
final class InteractionEnvironment {
    var nodes: [NodeID: InteractionNode] = [:]
    /// Sent, not yet delivered, in send order.
    var mailbox: [Message] = []
    /// When set, messages only flow within a group.
    var partition: [Set<NodeID>]?
    let seed: UInt64
    /// A stabilize that has not settled after this many rounds is a livelock.
    static let stabilizeRoundsMax = 1_000

    init(seed: UInt64) { self.seed = seed }

    var sortedIDs: [NodeID] { nodes.keys.sorted() }

    func node(_ raw: UInt64) throws -> InteractionNode {
        guard let node = nodes[NodeID(raw)] else { throw ScriptError("no node \(raw)") }
        return node
    }

    /// The script commands:
    /// - `add-nodes N [voters=(…)] [learners=(…)] [index=I] [prevote=false] [checkquorum=false]
    ///   [election=T] [heartbeat=T] [inflight=N] [max-msg-bytes=B] [max-uncommitted-bytes=B]
    ///   [bugs=(commit-previous-term,vote-without-log-check)]`: new nodes; with voters, their
    ///   storage starts from a snapshot at I holding that configuration, else empty.
    /// - `campaign ID`, `propose ID DATA`, `propose-conf-change ID add-voter|add-learner|remove N`,
    ///   `transfer-leadership from=ID to=ID`, `read-index ID CONTEXT`: inputs.
    /// - `tick ID N`, `tick-heartbeat ID`, `tick-election ID` (a follower: until it campaigns;
    ///   a leader: one election timeout).
    /// - `process-ready [IDS]`, `deliver-msgs [IDS] [drop=(…)]`, `stabilize [IDS]`: the Ready loop.
    /// - `partition (…) (…)`, `heal`, `restart ID` (crash and recover from storage).
    /// - `status ID`, `raft-state`, `raft-log ID`, `compact ID INDEX`; `log-level` is accepted
    ///   for etcd compatibility and does nothing (the module does not log).
    func run(_ command: ScriptCommand) throws -> [String] {
        switch command.name {
        case "add-nodes": return try addNodes(command)
        case "campaign": return try campaign(command)
        case "propose": return try propose(command)
        case "propose-conf-change": return try proposeConfigChange(command)
        case "stabilize": return try stabilize(command)
        case "process-ready": return try processReady(command)
        case "deliver-msgs": return try deliverMessages(command)
        case "tick-election": return try tickElection(command)
        case "tick-heartbeat": return try tick(command, times: nil)
        case "tick": return try tick(command, times: try command.number(at: 1))
        case "partition": return try partition(command)
        case "heal": partition = nil; return []
        case "transfer-leadership": return try transferLeadership(command)
        case "read-index": return try readIndex(command)
        case "status": return try status(command)
        case "raft-state": return raftState()
        case "raft-log": return try raftLog(command)
        case "compact": return try compact(command)
        case "restart": return try restart(command)
        case "log-level": return []
        default: throw ScriptError("unknown command \(command.name)")
        }
    }

    // MARK: Nodes

    private func addNodes(_ command: ScriptCommand) throws -> [String] {
        let count = try command.number(at: 0)
        let voters = Set(try command.numbers("voters")?.map(NodeID.init) ?? [])
        let learners = Set(try command.numbers("learners")?.map(NodeID.init) ?? [])
        let index = try command.number("index") ?? 0
        var snapshot = Snapshot()
        if !voters.isEmpty {
            let metadata = SnapshotMetadata(index: LogIndex(index), term: Term(index > 0 ? 1 : 0),
                                            configuration: Configuration(voters: voters, learners: learners))
            snapshot = Snapshot(metadata: metadata, data: [])
        }
        var lines: [String] = []
        let first = (nodes.keys.map(\.rawValue).max() ?? 0) + 1
        for raw in first..<(first + count) {
            let id = NodeID(raw)
            let config = try makeConfig(id: id, command)
            let node = try InteractionNode(id: id, storage: MemoryStorage(snapshot: snapshot), config: config, seed: seed &+ raw)
            nodes[id] = node
            let status = node.raw.status
            lines.append("\(raw): \(Describe.hardState(status.hardState)) first=\(status.firstIndex.rawValue) last=\(status.lastIndex.rawValue) \(status.configuration)")
        }
        return lines
    }

    private func makeConfig(id: NodeID, _ command: ScriptCommand) throws -> RaftConfig {
        var config = RaftConfig(id: id)
        config.electionTicks = Int(try command.number("election") ?? 10)
        config.heartbeatTicks = Int(try command.number("heartbeat") ?? 1)
        config.preVote = command.keyed["prevote"] != "false"
        config.checkQuorum = command.keyed["checkquorum"] != "false"
        if let inflight = try command.number("inflight") { config.inflightMessagesMax = Int(inflight) }
        if let bytes = try command.number("max-msg-bytes") { config.messageBytesMax = Int(bytes) }
        if let bytes = try command.number("max-uncommitted-bytes") { config.uncommittedBytesMax = Int(bytes) }
        for bug in (command.keyed["bugs"] ?? "").trimming(["(", ")"]).split(separator: ",") {
            switch bug {
            case "commit-previous-term": config.plantedBugs.insert(.commitPreviousTermEntries)
            case "vote-without-log-check": config.plantedBugs.insert(.voteWithoutLogCheck)
            default: throw ScriptError("unknown planted bug \(bug)")
            }
        }
        return config
    }

    /// Rebuilds a node from its storage, as after a crash: unpersisted state is lost.
    private func restart(_ command: ScriptCommand) throws -> [String] {
        let node = try node(try command.number(at: 0))
        node.restarts += 1
        var config = node.config
        let snapshot = try node.storage.snapshot()
        config.applied = snapshot.metadata.index
        node.raw = try RawNode(config: config, storage: node.storage, random: SeededRandom(seed: seed &+ node.id.rawValue &+ node.restarts << 32))
        node.values = InteractionEnvironment.values(from: snapshot)
        let status = node.raw.status
        return ["\(node.id.rawValue): \(Describe.hardState(status.hardState)) applied=\(status.applied.rawValue) last=\(status.lastIndex.rawValue) \(status.configuration)"]
    }

    // MARK: Inputs

    private func campaign(_ command: ScriptCommand) throws -> [String] {
        let node = try node(try command.number(at: 0))
        do { try node.raw.campaign() } catch { return ["error: \(error)"] }
        return []
    }

    private func propose(_ command: ScriptCommand) throws -> [String] {
        let node = try node(try command.number(at: 0))
        guard command.positional.count == 2 else { throw ScriptError("propose ID DATA") }
        do { try node.raw.propose(Array(command.positional[1].utf8)) } catch { return ["error: \(error)"] }
        return []
    }

    private func proposeConfigChange(_ command: ScriptCommand) throws -> [String] {
        let node = try node(try command.number(at: 0))
        guard command.positional.count == 3 else { throw ScriptError("propose-conf-change ID add-voter|add-learner|remove N") }
        let target = NodeID(try command.number(at: 2))
        let change: ConfigChange
        switch command.positional[1] {
        case "add-voter": change = .addVoter(target)
        case "add-learner": change = .addLearner(target)
        case "remove": change = .removeNode(target)
        default: throw ScriptError("unknown change \(command.positional[1])")
        }
        do { try node.raw.proposeConfigChange(change) } catch { return ["error: \(error)"] }
        return []
    }

    private func transferLeadership(_ command: ScriptCommand) throws -> [String] {
        guard let from = try command.number("from"), let to = try command.number("to") else {
            throw ScriptError("transfer-leadership from=N to=M")
        }
        try node(from).raw.transferLeadership(to: NodeID(to))
        return []
    }

    private func readIndex(_ command: ScriptCommand) throws -> [String] {
        let node = try node(try command.number(at: 0))
        guard command.positional.count == 2 else { throw ScriptError("read-index ID CONTEXT") }
        do { try node.raw.readIndex(context: Array(command.positional[1].utf8)) } catch { return ["error: \(error)"] }
        return []
    }

    func ids(_ command: ScriptCommand) throws -> [NodeID] {
        if command.positional.isEmpty { return sortedIDs }
        return try command.positional.flatMap { try ScriptCommand.numbers($0) }.map(NodeID.init)
    }

    /// `tick-heartbeat ID` (heartbeatTicks) or `tick ID N`.
    private func tick(_ command: ScriptCommand, times: UInt64?) throws -> [String] {
        let node = try node(try command.number(at: 0))
        let count = times ?? UInt64(node.config.heartbeatTicks)
        for _ in 0..<count { node.raw.tick() }
        return []
    }

    /// Ticks a follower until its (randomized) election timeout fires, or a leader for one
    /// election timeout (one check-quorum round).
    private func tickElection(_ command: ScriptCommand) throws -> [String] {
        let node = try node(try command.number(at: 0))
        let before = node.raw.basicStatus
        if before.role == .leader {
            for _ in 0..<node.config.electionTicks { node.raw.tick() }
            return []
        }
        let term = node.raw.status.hardState.term
        for _ in 0..<(2 * node.config.electionTicks) {
            node.raw.tick()
            if node.raw.basicStatus != before || node.raw.status.hardState.term != term { break }
        }
        return []
    }

    private func partition(_ command: ScriptCommand) throws -> [String] {
        partition = try command.positional.map { Set(try ScriptCommand.numbers($0).map(NodeID.init)) }
        return []
    }

    func isConnected(_ a: NodeID, _ b: NodeID) -> Bool {
        guard let partition else { return true }
        return partition.contains { $0.contains(a) && $0.contains(b) }
    }
}
