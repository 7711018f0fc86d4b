import MOMCore
import Raft

/// `raft-state`: term and vote (and the commit index, informational), versioned.
enum HardStateFile {
    static let version: UInt8 = 1

    static func encode(_ state: HardState) -> [UInt8] {
        var writer = BinaryWriter(capacity: 32)
        writer.write(version)
        writer.write(varint: state.term.rawValue)
        writer.write(varint: state.vote?.rawValue ?? 0)
        writer.write(varint: state.commit.rawValue)
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> HardState {
        try bytes.withUnsafeBytes { raw in
            var reader = BinaryReader(raw)
            guard try reader.readByte() == version else { throw DecodeError.invalid("unknown raft-state version") }
            let term = Term(try reader.readVarint())
            let vote = try reader.readVarint()
            let commit = LogIndex(try reader.readVarint())
            return HardState(term: term, vote: vote == 0 ? nil : NodeID(vote), commit: commit)
        }
    }
}

/// `raft-snapshot`: the log start (index, term, configuration) and the state machine's data.
enum SnapshotFile {
    static let version: UInt8 = 1

    static func encode(_ snapshot: Snapshot) -> [UInt8] {
        var writer = BinaryWriter(capacity: 64 + snapshot.data.count)
        writer.write(version)
        writer.write(varint: snapshot.metadata.index.rawValue)
        writer.write(varint: snapshot.metadata.term.rawValue)
        snapshot.metadata.configuration.encode(into: &writer)
        writer.write(lengthPrefixed: snapshot.data)
        return writer.bytes
    }

    static func decode(_ bytes: [UInt8], limits: Limits) throws -> Snapshot {
        try bytes.withUnsafeBytes { raw in
            var reader = BinaryReader(raw)
            guard try reader.readByte() == version else { throw DecodeError.invalid("unknown raft-snapshot version") }
            let index = LogIndex(try reader.readVarint())
            let term = Term(try reader.readVarint())
            let configuration = try Configuration.decode(from: &reader)
            let data = Array(try reader.readLengthPrefixed(limit: limits.raftMessageBytesMax * 64))
            return Snapshot(metadata: SnapshotMetadata(index: index, term: term, configuration: configuration), data: data)
        }
    }
}

/// The most recent entries, bounded in bytes, so replication reads them from memory.
struct EntryTail {
    let bytesMax: Int
    private var entries: [Entry] = []
    private var head = 0
    private var bytes = 0

    init(bytesMax: Int) { self.bytesMax = bytesMax }

    private var firstIndex: LogIndex? { head < entries.count ? entries[head].index : nil }

    func entry(at index: LogIndex) -> Entry? {
        guard let first = firstIndex, index >= first else { return nil }
        let position = head + Int(index.rawValue - first.rawValue)
        return position < entries.count ? entries[position] : nil
    }

    func entries(from: LogIndex, to: LogIndex, maxBytes: Int) -> [Entry]? {
        guard let first = firstIndex, from >= first, let last = entries.last?.index, to.rawValue <= last.rawValue + 1 else { return nil }
        var result: [Entry] = []
        var size = 0
        var position = head + Int(from.rawValue - first.rawValue)
        let end = head + Int(to.rawValue - first.rawValue)
        while position < end {
            let entry = entries[position]
            if !result.isEmpty && size + entry.sizeBytes > maxBytes { break }
            size += entry.sizeBytes
            result.append(entry)
            position += 1
        }
        return result
    }

    mutating func append(_ new: [Entry]) {
        if let last = entries.last?.index, let first = new.first?.index, first != last.next { removeAll() }
        for entry in new {
            entries.append(entry)
            bytes += entry.sizeBytes
        }
        while bytes > bytesMax && head < entries.count {
            bytes -= entries[head].sizeBytes
            head += 1
        }
        if head > 4096 && head * 2 > entries.count {
            entries.removeFirst(head)
            head = 0
        }
    }

    mutating func truncate(from index: LogIndex) {
        guard let first = firstIndex else { return }
        if index <= first { return removeAll() }
        let keep = head + Int(index.rawValue - first.rawValue)
        guard keep < entries.count else { return }
        for entry in entries[keep...] { bytes -= entry.sizeBytes }
        entries.removeSubrange(keep...)
    }

    mutating func removeAll() {
        entries.removeAll(keepingCapacity: true)
        head = 0
        bytes = 0
    }
}
