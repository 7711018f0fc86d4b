import MOMCore

/// One Raft message on its way to a peer node, tagged with the group it belongs to.
/// The transport never looks inside `payload`: the replication layer encodes and decodes it, so
/// the transport stays ignorant of Raft (DESIGN.md §2) and one connection carries every group.
public struct Envelope: Hashable, Sendable {
    /// The Raft group the payload belongs to, or `GroupID.nodeLevel` for node-level batches.
    public var group: GroupID
    /// An encoded Raft message (or a coalesced heartbeat batch), opaque to the transport.
    public var payload: [UInt8]

    @inlinable
    public init(group: GroupID, payload: [UInt8]) {
        self.group = group
        self.payload = payload
    }

    /// The envelope's size inside a frame body: group varint, length varint, payload.
    /// Queues account in these bytes so their bound matches what goes on the wire.
    @inlinable
    public var encodedByteCount: Int {
        Envelope.varintByteCount(group.rawValue) + Envelope.varintByteCount(UInt64(payload.count)) + payload.count
    }

    @inlinable
    static func varintByteCount(_ value: UInt64) -> Int {
        // 7 payload bits per byte; zero still takes one byte.
        value == 0 ? 1 : (64 - value.leadingZeroBitCount + 6) / 7
    }
}

extension GroupID {
    /// The reserved group for node-level traffic, such as the coalesced heartbeat batch: one
    /// envelope per peer per tick covering every group the two nodes share (Redpanda's
    /// heartbeat_manager). The replication host must never assign this id to a Raft group.
    public static let nodeLevel = GroupID(UInt64.max)
}

/// Which lane of a peer's send queue an envelope takes.
/// Control envelopes (coalesced heartbeats, votes) are framed before any queued bulk traffic,
/// so a heartbeat waits for at most one in-flight frame, never behind a backlog of appends.
public enum SendPriority: Sendable, Hashable {
    /// Bulk Raft traffic: appends, snapshots, their responses.
    case normal
    /// Small latency-critical traffic: node-level heartbeat batches, votes.
    case control
}
