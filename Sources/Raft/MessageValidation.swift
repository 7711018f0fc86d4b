import MOMCore

/// Checks that a message is one a correct peer could send, before it reaches the state
/// machine. The wire codec already guarantees structure; this guards the arithmetic and the
/// assumptions the state machine makes.
extension Message {
    /// No correct group ever reaches this many terms or entries (2^62: a billion appends per
    /// second for 146 years). Values beyond it can only be corruption, and refusing them keeps
    /// `next`, `+ count` and friends from overflowing.
    static let numberMax: UInt64 = 1 << 62

    func validate(recipient: NodeID) throws {
        guard to == recipient else { throw RaftError.wrongRecipient(to) }
        // A forwarded transfer names the transferee in `from`, which may be us.
        guard from != recipient || kind == .transferLeader, from.rawValue != 0 else {
            throw RaftError.malformedMessage("\(kind) from \(from)")
        }
        // Only forwarded requests travel without a term; anything else would pass as current.
        let termless = kind == .readIndex || kind == .transferLeader
        guard termless || term != .zero else { throw RaftError.malformedMessage("\(kind) without a term") }
        // Checked field by field, not through a collected array: this runs for every message
        // received, and the array cost two allocations per append.
        func beyond(_ number: UInt64) -> Bool { number >= Message.numberMax }
        var tooLarge = beyond(term.rawValue) || beyond(logTerm.rawValue) || beyond(index.rawValue)
            || beyond(commit.rawValue) || beyond(rejectHint.rawValue)
        if let metadata = snapshot?.metadata { tooLarge = tooLarge || beyond(metadata.index.rawValue) || beyond(metadata.term.rawValue) }
        for entry in entries where beyond(entry.term.rawValue) || beyond(entry.index.rawValue) { tooLarge = true }
        guard !tooLarge else { throw RaftError.malformedMessage("\(kind) with a term or index beyond 2^62") }
        for (offset, entry) in entries.enumerated() where entry.index != index.advanced(by: UInt64(offset + 1)) {
            throw RaftError.malformedMessage("\(kind) entry \(entry.index) does not follow \(index)")
        }
        if kind == .snapshot && snapshot == nil { throw RaftError.malformedMessage("snapshot message without a snapshot") }
        // This module changes membership one server at a time and never produces joint
        // configurations; one arriving can only come from an incompatible peer.
        if snapshot?.metadata.configuration.isJoint == true {
            throw RaftError.malformedMessage("snapshot with a joint configuration")
        }
    }
}
