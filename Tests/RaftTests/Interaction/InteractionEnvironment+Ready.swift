import MOMCore
@testable import Raft

/// Handling Readies and delivering messages, plus the inspection commands.
extension InteractionEnvironment {
    /// Persists, sends, applies and advances one Ready, as the replication host will.
    func handleReady(_ node: InteractionNode) throws -> [String] {
        let ready = node.raw.ready()
        if let snapshot = ready.snapshot {
            try node.storage.applySnapshot(snapshot)
            node.values = InteractionEnvironment.values(from: snapshot)
        }
        try node.storage.append(ready.entries)
        if let hardState = ready.hardState { node.storage.setHardState(hardState) }
        // Only now, with everything durable, may the messages leave.
        mailbox.append(contentsOf: ready.messages)
        for entry in ready.committedEntries where entry.kind == .normal && !entry.data.isEmpty {
            node.values.append((entry.index, Describe.text(entry.data)))
        }
        node.raw.advance(ready)
        return ["> \(node.id.rawValue) handling Ready"] + Describe.ready(ready).map { "  " + $0 }
    }

    func processReady(_ command: ScriptCommand) throws -> [String] {
        var lines: [String] = []
        for id in try ids(command) {
            let node = try node(id.rawValue)
            if node.raw.hasReady() { lines += try handleReady(node) }
        }
        return lines
    }

    /// `deliver-msgs [ids] [drop=(…)]`: discards pending messages to the `drop` nodes, then
    /// delivers those to `ids` (all nodes when neither is given), in send order. Messages
    /// across a partition are dropped.
    func deliverMessages(_ command: ScriptCommand) throws -> [String] {
        var lines: [String] = []
        if let dropped = try command.numbers("drop") {
            let targets = Set(dropped.map(NodeID.init))
            let (gone, kept) = split { targets.contains($0.to) }
            mailbox = kept
            lines = gone.map { "dropped: " + Describe.message($0) }
            if command.positional.isEmpty { return lines }
        }
        return lines + (try deliver(to: Set(try ids(command))))
    }

    private func split(_ predicate: (Message) -> Bool) -> ([Message], [Message]) {
        var matching: [Message] = []
        var rest: [Message] = []
        for message in mailbox {
            if predicate(message) { matching.append(message) } else { rest.append(message) }
        }
        return (matching, rest)
    }

    private func deliver(to targets: Set<NodeID>) throws -> [String] {
        let (deliverable, kept) = split { targets.contains($0.to) }
        mailbox = kept
        var lines: [String] = []
        for message in deliverable {
            guard let node = nodes[message.to], isConnected(message.from, message.to) else {
                lines.append("dropped: " + Describe.message(message))
                continue
            }
            // Every message crosses the wire codec, so scripts also exercise it.
            let decoded = try Message.decode(message.encoded(), limits: .standard)
            precondition(decoded == message, "codec round trip changed \(message)")
            do { try node.raw.step(decoded) } catch { lines.append("\(node.id.rawValue) rejected \(Describe.message(message)): \(error)") }
        }
        return lines
    }

    /// Handles Readies and delivers messages until nothing moves.
    func stabilize(_ command: ScriptCommand) throws -> [String] {
        let targets = try ids(command)
        var lines: [String] = []
        for _ in 0..<InteractionEnvironment.stabilizeRoundsMax {
            var moved = false
            for id in targets {
                let node = try node(id.rawValue)
                if node.raw.hasReady() {
                    lines += try handleReady(node)
                    moved = true
                }
            }
            let pending = mailbox.contains { targets.contains($0.to) }
            if pending {
                lines += try deliver(to: Set(targets))
                moved = true
            }
            if !moved { return lines }
        }
        throw ScriptError("stabilize did not settle in \(InteractionEnvironment.stabilizeRoundsMax) rounds")
    }

    // MARK: Inspection

    func status(_ command: ScriptCommand) throws -> [String] {
        let node = try node(try command.number(at: 0))
        let status = node.raw.status
        var lines = [
            "\(Describe.softState(status.softState)) \(Describe.hardState(status.hardState)) applied=\(status.applied.rawValue)",
            "log: first=\(status.firstIndex.rawValue) last=\(status.lastIndex.rawValue) \(status.configuration)",
        ]
        if let transferee = status.leadTransferee { lines.append("transferring to \(transferee.rawValue)") }
        for peer in status.progress.keys.sorted() {
            let progress = status.progress[peer]!
            var line = "\(peer.rawValue): \(progress.state) match=\(progress.match.rawValue) next=\(progress.next.rawValue)"
            if progress.isLearner { line += " learner" }
            if progress.inflightMessages > 0 { line += " inflight=\(progress.inflightMessages)" }
            lines.append(line)
        }
        return lines
    }

    func raftState() -> [String] {
        sortedIDs.map { id in
            let status = nodes[id]!.raw.status
            return "\(id.rawValue): \(Describe.softState(status.softState)) term=\(status.hardState.term.rawValue)"
        }
    }

    /// The node's stable log and its state machine.
    func raftLog(_ command: ScriptCommand) throws -> [String] {
        let node = try node(try command.number(at: 0))
        let first = try node.storage.firstIndex()
        let last = try node.storage.lastIndex()
        var lines: [String] = []
        if first > last {
            lines.append("log: empty after \(first.previous.rawValue)")
        } else {
            let entries = try node.storage.entries(from: first, to: last.next, maxBytes: Int.max)
            lines.append("log: " + Describe.entries(entries))
        }
        lines.append("applied: [" + node.values.map(\.value).joined(separator: " ") + "]")
        return lines
    }

    /// `compact ID INDEX`: snapshot the state machine at INDEX (applied) and drop the log up to it.
    func compact(_ command: ScriptCommand) throws -> [String] {
        let node = try node(try command.number(at: 0))
        let index = LogIndex(try command.number(at: 1))
        let status = node.raw.status
        guard index <= status.applied else { throw ScriptError("compact beyond applied \(status.applied)") }
        let values = node.values.filter { $0.index <= index }.map(\.value)
        try node.storage.createSnapshot(at: index, configuration: status.configuration,
                                        data: Array(values.joined(separator: ",").utf8))
        try node.storage.compact(upTo: index)
        return try raftLog(ScriptCommand(line: "raft-log \(node.id.rawValue)"))
    }

    /// The state machine encoded in a snapshot: applied values joined by commas.
    static func values(from snapshot: Snapshot) -> [(index: LogIndex, value: String)] {
        let text = Describe.text(snapshot.data)
        if text.isEmpty { return [] }
        return text.split(separator: ",").map { (snapshot.metadata.index, String($0)) }
    }
}
