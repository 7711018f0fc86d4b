import MOMCore
import Raft

/// Raft messages for a group this node does not host yet, kept for a short while and bounded.
///
/// When a partition is created, every replica applies the same catalog entry, but each creates
/// its groups one after another: the preferred leader's vote requests for group 900 can arrive
/// before its peers have created group 900. Dropped, they cost that group an election timeout
/// (1-2 s), and with 1,000 new partitions many groups paid it (docs/performance.md §14). Kept
/// here and stepped as soon as the group is added, they are just messages the network
/// delayed, which Raft allows at any time. Messages for a group that never comes (removed here,
/// or not ours) expire after `maxAgeTicks`.
struct EarlyMessages {
    struct Early {
        let from: NodeID
        let message: Message
        let tick: UInt64
        /// `EarlyMessages.size(of: message)`, counted once when kept.
        let size: Int
    }

    let perGroupMax: Int
    let totalMax: Int
    let bytesMax: Int
    let maxAgeTicks: UInt64
    private(set) var count = 0
    private(set) var bytes = 0
    private var byGroup: [GroupID: [Early]] = [:]

    init(perGroupMax: Int = 16, totalMax: Int = 8_192, bytesMax: Int = 8 << 20, maxAgeTicks: UInt64) {
        precondition(perGroupMax > 0 && totalMax >= perGroupMax && bytesMax > 0 && maxAgeTicks > 0, "EarlyMessages bounds must be positive")
        self.perGroupMax = perGroupMax
        self.totalMax = totalMax
        self.bytesMax = bytesMax
        self.maxAgeTicks = maxAgeTicks
    }

    /// Payload bytes a kept message holds (entries and snapshot data); the rest is small.
    static func size(of message: Message) -> Int {
        message.entries.reduce(64) { $0 + $1.data.count } + (message.snapshot?.data.count ?? 0)
    }

    /// Keeps `message`; returns false (dropped) when a bound is reached.
    @discardableResult
    mutating func keep(_ message: Message, from: NodeID, group: GroupID, tick: UInt64) -> Bool {
        let size = Self.size(of: message)
        guard count < totalMax, bytes + size <= bytesMax, byGroup[group, default: []].count < perGroupMax else { return false }
        byGroup[group, default: []].append(Early(from: from, message: message, tick: tick, size: size))
        count += 1
        bytes += size
        return true
    }

    /// The group's kept messages in arrival order, forgotten here.
    mutating func take(_ group: GroupID) -> [Early] {
        guard let early = byGroup.removeValue(forKey: group) else { return [] }
        forget(early)
        return early
    }

    /// Forgets messages older than `maxAgeTicks` at `tick`.
    mutating func expire(tick: UInt64) {
        guard count > 0 else { return }
        for (group, early) in byGroup {
            let stale = early.filter { tick - $0.tick > maxAgeTicks }
            guard !stale.isEmpty else { continue }
            forget(stale)
            let fresh = early.filter { tick - $0.tick <= maxAgeTicks }
            byGroup[group] = fresh.isEmpty ? nil : fresh
        }
    }

    private mutating func forget(_ early: [Early]) {
        count -= early.count
        bytes -= early.reduce(0) { $0 + $1.size }
        assert(count >= 0 && bytes >= 0, "EarlyMessages bookkeeping out of step")
    }
}
