import MOMCore

/// The sparse offset index of one segment (after Kafka's OffsetIndex): an entry every
/// `indexIntervalBytes` of log, each 4-byte offset relative to the segment base plus a 4-byte
/// file position. It is a hint: recovery rebuilds it whenever it disagrees with the log.
struct OffsetIndex {
    struct Entry: Equatable {
        var relativeOffset: UInt32
        var position: UInt32
    }

    static let entrySize = 8

    private(set) var entries: [Entry] = []

    var count: Int { entries.count }
    var last: Entry? { entries.last }

    mutating func append(_ entry: Entry) {
        if let last = entries.last {
            precondition(entry.relativeOffset > last.relativeOffset && entry.position > last.position, "index out of order")
        }
        entries.append(entry)
    }

    mutating func removeAll() { entries.removeAll() }

    /// Keeps only entries whose position is below `position`.
    mutating func removeEntries(fromPosition position: UInt64) {
        while let last = entries.last, UInt64(last.position) >= position { entries.removeLast() }
    }

    /// The last entry at or before `relativeOffset` (binary search), or nil if none.
    func lookup(relativeOffset target: UInt32) -> Entry? {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].relativeOffset <= target { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? nil : entries[low - 1]
    }

    /// Decodes the longest well-formed prefix of an index file: whole entries, strictly
    /// increasing, within the log's size. A torn or zeroed tail simply ends the prefix.
    static func decode(_ bytes: [UInt8], logSize: UInt64) -> OffsetIndex {
        var index = OffsetIndex()
        bytes.withUnsafeBytes { raw in
            var position = 0
            while position + entrySize <= raw.count {
                let entry = Entry(
                    relativeOffset: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: position, as: UInt32.self)),
                    position: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: position + 4, as: UInt32.self)))
                if let last = index.last, entry.relativeOffset <= last.relativeOffset || entry.position <= last.position {
                    break
                }
                if entry.position == 0 || UInt64(entry.position) >= logSize { break }
                index.entries.append(entry)
                position += entrySize
            }
        }
        return index
    }

    /// Encodes entries `range` for appending to the index file.
    func encode(_ range: Range<Int>) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: range.count * Self.entrySize)
        bytes.withUnsafeMutableBytes { raw in
            for (slot, entry) in entries[range].enumerated() {
                raw.storeBytes(of: entry.relativeOffset.littleEndian, toByteOffset: slot * 8, as: UInt32.self)
                raw.storeBytes(of: entry.position.littleEndian, toByteOffset: slot * 8 + 4, as: UInt32.self)
            }
        }
        return bytes
    }
}

extension OffsetIndex {
    mutating func removeLast() { entries.removeLast() }
}
