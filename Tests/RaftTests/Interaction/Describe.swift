import MOMCore
@testable import Raft

/// Stable, compact text for Raft values in golden scripts.
enum Describe {
    static func id(_ node: NodeID?) -> String { node.map { String($0.rawValue) } ?? "none" }

    static func entry(_ entry: Entry) -> String {
        let position = "\(entry.term.rawValue)/\(entry.index.rawValue)"
        switch entry.kind {
        case .normal:
            return "\(position) \"\(String(decoding: entry.data, as: UTF8.self))\""
        case .configChange:
            let change = (try? ConfigChange.decode(entry.data)).map(self.change) ?? "corrupt"
            return "\(position) conf(\(change))"
        }
    }

    static func entries(_ entries: [Entry]) -> String { "[" + entries.map(entry).joined(separator: ", ") + "]" }

    static func change(_ change: ConfigChange) -> String {
        switch change {
        case .addVoter(let id): return "add-voter \(id.rawValue)"
        case .addLearner(let id): return "add-learner \(id.rawValue)"
        case .removeNode(let id): return "remove \(id.rawValue)"
        }
    }

    static func kind(_ kind: MessageKind) -> String {
        switch kind {
        case .preVote: return "pre-vote"
        case .preVoteResponse: return "pre-vote-response"
        case .vote: return "vote"
        case .voteResponse: return "vote-response"
        case .append: return "append"
        case .appendResponse: return "append-response"
        case .heartbeat: return "heartbeat"
        case .heartbeatResponse: return "heartbeat-response"
        case .snapshot: return "snapshot"
        case .timeoutNow: return "timeout-now"
        case .readIndex: return "read-index"
        case .readIndexResponse: return "read-index-response"
        case .transferLeader: return "transfer-leader"
        case .quiesce: return "quiesce"
        }
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }

    static func message(_ message: Message) -> String {
        var text = "\(message.from.rawValue)->\(message.to.rawValue) \(kind(message.kind)) term=\(message.term.rawValue)"
        let log = "log=\(message.logTerm.rawValue)/\(message.index.rawValue)"
        switch message.kind {
        case .vote, .preVote:
            text += " \(log)"
            if message.context == Message.transferContext { text += " transfer" }
        case .voteResponse, .preVoteResponse:
            text += message.reject ? " rejected" : " granted"
        case .append:
            text += " \(log) commit=\(message.commit.rawValue) entries=\(entries(message.entries))"
        case .appendResponse:
            text += " index=\(message.index.rawValue)"
            if message.reject { text += " rejected hint=\(message.logTerm.rawValue)/\(message.rejectHint.rawValue)" }
        case .heartbeat:
            text += " commit=\(message.commit.rawValue)"
        case .quiesce:
            text += " \(log) commit=\(message.commit.rawValue)"
        case .snapshot:
            if let snapshot = message.snapshot { text += " " + self.snapshot(snapshot) }
        case .readIndexResponse:
            text += " index=\(message.index.rawValue)"
        case .heartbeatResponse, .timeoutNow, .readIndex, .transferLeader:
            break
        }
        if !message.context.isEmpty && message.context != Message.transferContext {
            text += " context=\(self.text(message.context))"
        }
        return text
    }

    static func snapshot(_ snapshot: Snapshot) -> String {
        let metadata = snapshot.metadata
        return "snapshot=\(metadata.term.rawValue)/\(metadata.index.rawValue) \(metadata.configuration) data=\"\(text(snapshot.data))\""
    }

    static func hardState(_ state: HardState) -> String {
        "term=\(state.term.rawValue) vote=\(id(state.vote)) commit=\(state.commit.rawValue)"
    }

    static func softState(_ state: SoftState) -> String {
        "\(state.role) leader=\(id(state.leader))"
    }

    static func ready(_ ready: Ready) -> [String] {
        var lines: [String] = []
        if let soft = ready.softState { lines.append("soft: \(softState(soft))") }
        if let hard = ready.hardState { lines.append("hard: \(hardState(hard))") }
        if let snapshot = ready.snapshot { lines.append("install: \(self.snapshot(snapshot))") }
        if !ready.entries.isEmpty { lines.append("persist: \(entries(ready.entries))") }
        if !ready.committedEntries.isEmpty { lines.append("apply: \(entries(ready.committedEntries))") }
        for state in ready.readStates { lines.append("read-state: index=\(state.index.rawValue) context=\(text(state.context))") }
        for message in ready.messages { lines.append("send: \(self.message(message))") }
        return lines
    }
}
