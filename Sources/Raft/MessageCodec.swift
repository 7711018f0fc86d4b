import MOMCore

/// The wire format of Raft messages, over MOMCore's binary codec. Decoding is total: any byte
/// string either decodes to a message that satisfies the invariants the state machine relies on
/// (contiguous entries, valid kinds, members in one role each) or throws `DecodeError`.
extension Message {
    /// Format version, first byte of every message, so the format can evolve.
    static let wireVersion: UInt8 = 1

    /// Appends the wire form (version byte first) to `writer`.
    public func encode(into writer: inout BinaryWriter) {
        writer.write(Message.wireVersion)
        writer.write(kind.rawValue)
        writer.write(varint: from.rawValue)
        writer.write(varint: to.rawValue)
        writer.write(varint: term.rawValue)
        writer.write(varint: logTerm.rawValue)
        writer.write(varint: index.rawValue)
        writer.write(varint: commit.rawValue)
        writer.write(reject ? 1 as UInt8 : 0)
        writer.write(varint: rejectHint.rawValue)
        writer.write(lengthPrefixed: context)
        writer.write(varint: UInt64(entries.count))
        for entry in entries { entry.encode(into: &writer) }
        if let snapshot {
            writer.write(1 as UInt8)
            snapshot.encode(into: &writer)
        } else {
            writer.write(0 as UInt8)
        }
    }

    /// The encoded bytes, for callers that frame messages themselves.
    public func encoded() -> [UInt8] {
        var writer = BinaryWriter(capacity: 64 + entries.sizeBytes)
        encode(into: &writer)
        return writer.bytes
    }

    /// Reads one message; throws `DecodeError` for any malformed or over-limit input.
    public static func decode(from reader: inout BinaryReader, limits: Limits) throws -> Message {
        let version = try reader.readByte()
        guard version == wireVersion else { throw DecodeError.invalid("raft message version \(version)") }
        let rawKind = try reader.readByte()
        guard let kind = MessageKind(rawValue: rawKind) else {
            throw DecodeError.invalid("raft message kind \(rawKind)")
        }
        var message = Message(kind: kind, from: NodeID(try reader.readVarint()), to: NodeID(try reader.readVarint()))
        message.term = Term(try reader.readVarint())
        message.logTerm = Term(try reader.readVarint())
        message.index = LogIndex(try reader.readVarint())
        message.commit = LogIndex(try reader.readVarint())
        message.reject = try decodeBool(from: &reader)
        message.rejectHint = LogIndex(try reader.readVarint())
        message.context = Array(try reader.readLengthPrefixed(limit: limits.raftMessageBytesMax))
        message.entries = try decodeEntries(from: &reader, limits: limits, after: message.index)
        if try decodeBool(from: &reader) {
            message.snapshot = try Snapshot.decode(from: &reader, limits: limits)
        }
        return message
    }

    /// Decodes a whole buffer as one message; trailing bytes are corruption.
    public static func decode(_ bytes: [UInt8], limits: Limits) throws -> Message {
        try bytes.withUnsafeBytes { raw in
            var reader = BinaryReader(raw)
            let message = try decode(from: &reader, limits: limits)
            guard reader.isAtEnd else { throw DecodeError.invalid("\(reader.remaining) trailing bytes after raft message") }
            return message
        }
    }

    private static func decodeEntries(from reader: inout BinaryReader, limits: Limits, after index: LogIndex) throws -> [Entry] {
        let count = try reader.readVarint()
        // Every entry takes at least four bytes, so a count beyond the remaining bytes is corrupt.
        guard count <= UInt64(reader.remaining / 4) else {
            throw DecodeError.lengthTooLarge(Int(clamping: count), limit: reader.remaining / 4)
        }
        var entries: [Entry] = []
        entries.reserveCapacity(Int(count))
        var expected = index
        for _ in 0..<count {
            let entry = try Entry.decode(from: &reader, limits: limits)
            // The state machine assumes an append carries the entries right after `index`.
            guard expected.rawValue < UInt64.max, entry.index == expected.next else {
                throw DecodeError.invalid("raft entry index \(entry.index) does not follow \(expected)")
            }
            expected = entry.index
            entries.append(entry)
        }
        return entries
    }
}

func decodeBool(from reader: inout BinaryReader) throws -> Bool {
    let byte = try reader.readByte()
    guard byte <= 1 else { throw DecodeError.invalid("boolean byte \(byte)") }
    return byte == 1
}

extension Entry {
    func encode(into writer: inout BinaryWriter) {
        writer.write(varint: term.rawValue)
        writer.write(varint: index.rawValue)
        writer.write(kind.rawValue)
        writer.write(lengthPrefixed: data)
    }

    static func decode(from reader: inout BinaryReader, limits: Limits) throws -> Entry {
        let term = Term(try reader.readVarint())
        let index = LogIndex(try reader.readVarint())
        let rawKind = try reader.readByte()
        guard let kind = EntryKind(rawValue: rawKind) else { throw DecodeError.invalid("raft entry kind \(rawKind)") }
        let data = Array(try reader.readLengthPrefixed(limit: limits.raftMessageBytesMax))
        if kind == .configChange {
            // A committed change that cannot be decoded would stall the group; reject it here.
            _ = try ConfigChange.decode(data)
        }
        return Entry(term: term, index: index, kind: kind, data: data)
    }
}

extension Snapshot {
    func encode(into writer: inout BinaryWriter) {
        writer.write(varint: metadata.index.rawValue)
        writer.write(varint: metadata.term.rawValue)
        metadata.configuration.encode(into: &writer)
        writer.write(lengthPrefixed: data)
    }

    static func decode(from reader: inout BinaryReader, limits: Limits) throws -> Snapshot {
        let index = LogIndex(try reader.readVarint())
        let term = Term(try reader.readVarint())
        let configuration = try Configuration.decode(from: &reader)
        let data = Array(try reader.readLengthPrefixed(limit: limits.frameBytesMax))
        return Snapshot(metadata: SnapshotMetadata(index: index, term: term, configuration: configuration), data: data)
    }
}

extension Configuration {
    /// Encoded sorted, so equal configurations encode to equal bytes.
    public func encode(into writer: inout BinaryWriter) {
        for set in [voters, learners, votersOutgoing] {
            writer.write(varint: UInt64(set.count))
            for id in set.sorted() { writer.write(varint: id.rawValue) }
        }
    }

    /// Reads a configuration; duplicate ids or a node in two roles throw.
    public static func decode(from reader: inout BinaryReader) throws -> Configuration {
        var sets: [Set<NodeID>] = []
        for _ in 0..<3 {
            let count = try reader.readVarint()
            guard count <= UInt64(reader.remaining) else {
                throw DecodeError.lengthTooLarge(Int(clamping: count), limit: reader.remaining)
            }
            var set = Set<NodeID>()
            for _ in 0..<count { set.insert(NodeID(try reader.readVarint())) }
            guard set.count == Int(count) else { throw DecodeError.invalid("duplicate node in configuration") }
            sets.append(set)
        }
        guard sets[0].isDisjoint(with: sets[1]) else { throw DecodeError.invalid("node is both voter and learner") }
        return Configuration(voters: sets[0], learners: sets[1], votersOutgoing: sets[2])
    }
}

extension ConfigChange {
    /// The bytes stored in a `.configChange` entry's data.
    public func encoded() -> [UInt8] {
        var writer = BinaryWriter(capacity: 10)
        switch self {
        case .addVoter(let id): writer.write(0 as UInt8); writer.write(varint: id.rawValue)
        case .addLearner(let id): writer.write(1 as UInt8); writer.write(varint: id.rawValue)
        case .removeNode(let id): writer.write(2 as UInt8); writer.write(varint: id.rawValue)
        }
        return writer.bytes
    }

    /// Reads a change from an entry's data; anything else throws.
    public static func decode(_ bytes: [UInt8]) throws -> ConfigChange {
        try bytes.withUnsafeBytes { raw in
            var reader = BinaryReader(raw)
            let tag = try reader.readByte()
            let id = NodeID(try reader.readVarint())
            guard reader.isAtEnd else { throw DecodeError.invalid("trailing bytes after config change") }
            switch tag {
            case 0: return .addVoter(id)
            case 1: return .addLearner(id)
            case 2: return .removeNode(id)
            default: throw DecodeError.invalid("config change tag \(tag)")
            }
        }
    }
}
