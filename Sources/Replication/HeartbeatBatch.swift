import MOMCore
import Raft

/// Every group's heartbeats (and heartbeat responses) for one peer in one loop pass, packed in a
/// single envelope on the node-level channel: one message per node pair per tick, whatever the
/// number of groups (Redpanda's heartbeat_manager does the same). An empty batch is the node's
/// keep-alive (PeerLiveness): sent every heartbeat interval whatever the groups do, it is what
/// tells a peer this node is up while its groups are quiesced.
public enum HeartbeatBatch {
    /// The reserved group id of the node-level channel; no Raft group ever uses it.
    public static let channel = GroupID(UInt64.max)

    /// Whether a message travels in the batch rather than on its own.
    public static func carries(_ message: Message) -> Bool {
        message.kind == .heartbeat || message.kind == .heartbeatResponse || message.kind == .quiesce
    }

    public static func encode(_ items: [(GroupID, Message)]) -> [UInt8] {
        var writer = BinaryWriter(capacity: 16 + items.count * 48)
        writer.write(varint: UInt64(items.count))
        for (group, message) in items {
            writer.write(varint: group.rawValue)
            message.encode(into: &writer)
        }
        return writer.bytes
    }

    /// Decodes a batch; malformed input throws, it never traps.
    public static func decode(_ bytes: [UInt8], limits: Limits, itemsMax: Int = 1 << 20) throws -> [(GroupID, Message)] {
        try bytes.withUnsafeBytes { raw in
            var reader = BinaryReader(raw)
            let count = try reader.readVarint()
            guard count <= UInt64(itemsMax) else { throw DecodeError.lengthTooLarge(Int(clamping: count), limit: itemsMax) }
            var items: [(GroupID, Message)] = []
            items.reserveCapacity(Int(count))
            for _ in 0..<count {
                let group = GroupID(try reader.readVarint())
                items.append((group, try Message.decode(from: &reader, limits: limits)))
            }
            guard reader.isAtEnd else { throw DecodeError.invalid("trailing bytes after heartbeat batch") }
            return items
        }
    }
}
