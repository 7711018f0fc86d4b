import MOMCore

/// A data record as a reader sees it: the record and its offset.
struct FetchedRecord: Hashable, Sendable {
    let offset: Offset
    let record: DataRecord
}

/// The reader-facing view of a partition log: control records and noops are skipped, so the
/// offsets a reader sees may have gaps (as Kafka's control batches leave).
enum PartitionFetch {
    /// Decodes committed `entries` (ascending offsets) and keeps data records, at most
    /// `maxRecords` and about `maxBytes` of keys and values. Like Kafka, the first record is
    /// returned even if it alone exceeds `maxBytes`, so a reader can always make progress.
    /// `nextOffset` is where the next fetch starts: past skipped control records too.
    static func visibleRecords(
        _ entries: [(offset: Offset, bytes: [UInt8])], from start: Offset, maxRecords: Int, maxBytes: Int,
        limits: Limits = .standard
    ) throws -> (records: [FetchedRecord], nextOffset: Offset) {
        var records: [FetchedRecord] = []
        var bytes = 0
        var nextOffset = start
        for entry in entries where entry.offset >= nextOffset {
            guard records.count < maxRecords else { break }
            let decoded = try PartitionRecord.decode(entry.bytes, limits: limits)
            if case .data(let data) = decoded {
                let size = data.value.count + (data.key?.count ?? 0)
                if !records.isEmpty && bytes + size > maxBytes { break }
                bytes += size
                records.append(FetchedRecord(offset: entry.offset, record: data))
            }
            nextOffset = entry.offset.next
        }
        return (records, nextOffset)
    }
}
