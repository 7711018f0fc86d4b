import MOMCore
import Raft

/// Records what the nodes report (leaders, committed and applied entries, logs) and checks the
/// Raft safety properties against that history. Pure: the simulator feeds it, and unit tests feed
/// it hand-made bad histories to prove every check can fail.
///
/// Deterministic: history is kept in arrays indexed by log index; dictionaries are only looked
/// up, never iterated.
public struct SafetyChecker: Sendable {
    /// Violations found so far, in detection order; at most `violationsMax` are kept.
    public private(set) var violations: [SafetyViolation] = []
    /// The simulated time stamped on violations.
    public var now: UInt64 = 0
    static let violationsMax = 16

    private var leaderOfTerm: [Term: NodeID] = [:]
    /// `committed[i]`: the entry known committed at index i, if any node reported it.
    private var committed: [Entry?] = []
    /// `commitTerm[i]`: the lowest term of a node that reported index i committed. A leader of
    /// a later term must hold the entry (leader completeness).
    private var commitTerm: [Term] = []
    /// The state-machine digest after applying every index up to `bootstrapIndex + k`, for the
    /// contiguous committed prefix; snapshots are checked against it.
    private var prefixDigest: [UInt64]
    private let bootstrapIndex: LogIndex
    /// Where each client proposal was committed, to catch one proposal committed twice.
    private var indexOfProposal: [UInt64: LogIndex] = [:]

    /// A checker for a cluster bootstrapped from a snapshot at `bootstrapIndex` with an empty
    /// state machine.
    public init(bootstrapIndex: LogIndex) {
        self.bootstrapIndex = bootstrapIndex
        self.prefixDigest = [StateMachine.initialDigest]
    }

    /// The highest index known committed.
    public var committedIndex: LogIndex {
        LogIndex(UInt64(max(committed.count, 1) - 1))
    }

    /// The entry known committed at `index`.
    public func committedEntry(at index: LogIndex) -> Entry? {
        index.rawValue < UInt64(committed.count) ? committed[Int(index.rawValue)] : nil
    }

    mutating func fail(_ property: SafetyViolation.Property, _ detail: String) {
        guard violations.count < SafetyChecker.violationsMax else { return }
        violations.append(SafetyViolation(property, tick: now, detail))
    }

    // MARK: Election safety

    /// `node` is leader in `term`.
    public mutating func observeLeader(_ node: NodeID, term: Term) {
        if let other = leaderOfTerm[term] {
            if other != node { fail(.electionSafety, "\(other) and \(node) both lead \(term)") }
        } else {
            leaderOfTerm[term] = node
        }
    }

    // MARK: Committed and applied entries

    /// `node`, in `nodeTerm`, holds `entry` at an index it knows is committed.
    public mutating func observeCommitted(_ entry: Entry, by node: NodeID, nodeTerm: Term) {
        let position = Int(entry.index.rawValue)
        if position >= committed.count {
            committed.append(contentsOf: repeatElement(nil, count: position - committed.count + 1))
            commitTerm.append(contentsOf: repeatElement(Term(UInt64.max), count: position - commitTerm.count + 1))
        }
        if let known = committed[position] {
            if known != entry {
                fail(.stateMachineSafety, "committed \(entry.index) changed: had \(Self.describe(known)), \(node) holds \(Self.describe(entry))")
            }
        } else {
            committed[position] = entry
            recordProposal(entry)
            extendPrefixDigest()
        }
        commitTerm[position] = min(commitTerm[position], nodeTerm)
    }

    /// `node`, in `nodeTerm`, applied `entry` right after `previous`.
    public mutating func observeApplied(_ entry: Entry, by node: NodeID, previous: LogIndex, nodeTerm: Term) {
        if entry.index != previous.next {
            fail(.stateMachineSafety, "\(node) applied \(entry.index) after \(previous): a gap or repeat")
        }
        // Applying means committed; recording it also compares it with what others applied.
        observeCommitted(entry, by: node, nodeTerm: nodeTerm)
    }

    /// `node` restored its state machine (from a snapshot) at `index` with `digest`.
    public mutating func observeRestored(_ node: NodeID, index: LogIndex, digest: UInt64) {
        guard index >= bootstrapIndex else {
            fail(.stateMachineSafety, "\(node) restored a snapshot at \(index), before the bootstrap")
            return
        }
        let offset = Int(index.rawValue - bootstrapIndex.rawValue)
        if offset < prefixDigest.count, prefixDigest[offset] != digest {
            fail(.stateMachineSafety, "\(node) restored a snapshot at \(index) whose state differs from the committed history")
        }
    }

    private mutating func recordProposal(_ entry: Entry) {
        guard let proposal = ClientProposal(data: entry.data) else { return }
        if let earlier = indexOfProposal[proposal.id], earlier != entry.index {
            fail(.stateMachineSafety, "proposal \(proposal.id) committed twice, at \(earlier) and \(entry.index)")
        } else {
            indexOfProposal[proposal.id] = entry.index
        }
    }

    private mutating func extendPrefixDigest() {
        while true {
            let position = Int(bootstrapIndex.rawValue) + prefixDigest.count
            guard position < committed.count, let entry = committed[position] else { return }
            prefixDigest.append(StateMachine.digest(prefixDigest[prefixDigest.count - 1], after: entry))
        }
    }

    /// Where client proposal `id` was committed, if it was.
    public func committedIndex(ofProposal id: UInt64) -> LogIndex? { indexOfProposal[id] }

    static func describe(_ entry: Entry) -> String {
        "\(entry.index)/\(entry.term)/\(entry.kind)/\(entry.data.count)B"
    }
}

extension SafetyChecker {
    // MARK: Checks over logs

    /// Leader completeness: `leader`, elected in `term`, whose whole log is `log`, holds every
    /// entry committed in an earlier term.
    public mutating func checkLeaderCompleteness(leader: NodeID, term: Term, log: DiskImage) {
        guard committed.count > 1 else { return }
        for position in 1..<committed.count {
            guard let entry = committed[position], commitTerm[position] < term else { continue }
            if entry.index <= log.snapshotIndex { continue }
            guard let held = log.entry(at: entry.index) else {
                fail(.leaderCompleteness, "\(leader), leader of \(term), lacks committed \(Self.describe(entry)) (its log ends at \(log.lastIndex))")
                return
            }
            if held != entry {
                fail(.leaderCompleteness, "\(leader), leader of \(term), holds \(Self.describe(held)) where \(Self.describe(entry)) was committed")
                return
            }
        }
    }

    /// A node's log never loses or changes what it knows committed: entries of `log` up to its
    /// hard state's commit index match the committed history.
    public mutating func checkCommittedPrefix(of node: NodeID, log: DiskImage) {
        let last = min(log.hardState.commit, log.lastIndex)
        guard last > log.snapshotIndex else { return }
        for entry in log.entries where entry.index <= last {
            if let known = committedEntry(at: entry.index), known != entry {
                fail(.stateMachineSafety, "\(node)'s log holds \(Self.describe(entry)) at its committed index where \(Self.describe(known)) was committed")
                return
            }
        }
    }

    /// Log matching: if two logs hold an entry with the same index and term, they hold the same
    /// entries up to it. `logs` are the nodes' logs in a fixed order.
    public mutating func checkLogMatching(_ logs: [(node: NodeID, log: DiskImage)]) {
        for first in 0..<logs.count {
            for second in (first + 1)..<max(first + 1, logs.count) {
                checkLogMatching(logs[first], logs[second])
            }
        }
    }

    private mutating func checkLogMatching(_ a: (node: NodeID, log: DiskImage), _ b: (node: NodeID, log: DiskImage)) {
        let low = max(a.log.snapshotIndex, b.log.snapshotIndex).next
        let high = min(a.log.lastIndex, b.log.lastIndex)
        guard low <= high else { return }
        var index = high
        var matched = false
        while index >= low {
            let left = a.log.entry(at: index)!
            let right = b.log.entry(at: index)!
            if matched && left != right {
                fail(.logMatching, "\(a.node) and \(b.node) agree on a later entry but differ at \(index): \(Self.describe(left)) vs \(Self.describe(right))")
                return
            }
            if !matched && left.term == right.term {
                matched = true
                if left != right {
                    fail(.logMatching, "\(a.node) and \(b.node) hold different entries with the same index and term: \(Self.describe(left)) vs \(Self.describe(right))")
                    return
                }
            }
            index = index.previous
        }
    }
}

/// A client's proposal: a tag byte, a unique 64-bit id (little-endian), and padding.
public struct ClientProposal: Equatable, Sendable {
    /// Unique per simulation run.
    public var id: UInt64
    static let tag: UInt8 = 0x63

    /// Proposal number `id`.
    public init(id: UInt64) { self.id = id }

    /// Decodes an entry's data; nil for no-ops, config changes and other payloads.
    public init?(data: [UInt8]) {
        guard data.count >= 9, data[0] == ClientProposal.tag else { return nil }
        var value: UInt64 = 0
        for position in 0..<8 { value |= UInt64(data[1 + position]) << UInt64(position * 8) }
        id = value
    }

    /// The entry payload, padded with zeros to `sizeBytes` (at least 9).
    public func encoded(sizeBytes: Int = 9) -> [UInt8] {
        var bytes = [ClientProposal.tag]
        for position in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: id >> UInt64(position * 8))) }
        if sizeBytes > bytes.count { bytes.append(contentsOf: repeatElement(0, count: sizeBytes - bytes.count)) }
        return bytes
    }
}
