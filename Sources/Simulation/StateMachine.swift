import MOMCore
import Raft

/// The replicated state machine every node applies committed entries to: a running FNV-1a
/// digest of (index, term, kind, data). Two nodes that applied the same sequence hold the same
/// digest, so a snapshot (which carries only the digest) can be checked against history.
public struct StateMachine: Equatable, Sendable {
    /// The last index applied (or restored from a snapshot).
    public private(set) var appliedIndex: LogIndex
    /// The digest of everything applied up to `appliedIndex`.
    public private(set) var digest: UInt64

    /// The digest of the empty history, at the bootstrap snapshot.
    public static let initialDigest: UInt64 = 0xCBF2_9CE4_8422_2325

    /// A state machine restored at `index` with `digest`.
    public init(appliedIndex: LogIndex, digest: UInt64 = StateMachine.initialDigest) {
        self.appliedIndex = appliedIndex
        self.digest = digest
    }

    /// Applies `entry`; the caller checks it is the next index.
    public mutating func apply(_ entry: Entry) {
        digest = StateMachine.digest(digest, after: entry)
        appliedIndex = entry.index
    }

    /// The digest after applying `entry` to a state with digest `digest`.
    public static func digest(_ digest: UInt64, after entry: Entry) -> UInt64 {
        var hash = digest
        func mix(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        for shift in stride(from: 0, to: 64, by: 8) { mix(UInt8(truncatingIfNeeded: entry.index.rawValue >> UInt64(shift))) }
        for shift in stride(from: 0, to: 64, by: 8) { mix(UInt8(truncatingIfNeeded: entry.term.rawValue >> UInt64(shift))) }
        mix(entry.kind.rawValue)
        for byte in entry.data { mix(byte) }
        return hash
    }

    /// The snapshot payload: the digest, 8 bytes little-endian.
    public var snapshotData: [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: digest >> UInt64($0 * 8)) }
    }

    /// Restores the state machine from a snapshot; nil if the payload is not a digest.
    public init?(snapshot: Snapshot) {
        guard snapshot.data.count == 8 else {
            if snapshot.data.isEmpty && snapshot.metadata.index <= LogIndex(1) {
                self.init(appliedIndex: snapshot.metadata.index)
                return
            }
            return nil
        }
        var value: UInt64 = 0
        for (position, byte) in snapshot.data.enumerated() { value |= UInt64(byte) << UInt64(position * 8) }
        self.init(appliedIndex: snapshot.metadata.index, digest: value)
    }
}
