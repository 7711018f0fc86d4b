import HTTPServer
import MOMCore

/// The byte layout of a partition record (the opaque data of one Raft entry):
///
///     version u8 (=1) | kind u8 | body
///     data:                timestamp varint | flags u8 (1 = key, 2 = producer) | [key bytes]
///                          | value bytes | header count varint | (name string, value bytes)*
///                          | [producer id varint, sequence varint, index varint]
///     noop:                (empty body; an entry with no bytes at all is also a noop)
///     subscriptionCommit:  name string | subscription id varint | offset varint
///     subscriptionDelete:  name string | subscription id varint
///     queueClaim:          claim id u64 | claimed-at varint | deadline varint | offset ranges
///     queueAck:            count varint | (offset varint, claim id u64)*
///     queueDeadLettered:   dead-lettered-at varint | offset ranges
///
/// "bytes" and "string" are varint-length-prefixed; strings must be valid UTF-8. Offset ranges
/// are `count varint | (gap from previous end varint, length varint ≥ 1)*`, so they are
/// ascending and duplicate-free by construction. Decoding is total: every length is bounded by
/// `Limits`, trailing bytes are rejected, and bad input throws `DecodeError`, never traps.
extension PartitionRecord {
    static let formatVersion: UInt8 = 1

    enum Kind: UInt8 {
        case data = 1, noop, subscriptionCommit, subscriptionDelete, queueClaim, queueAck, queueDeadLettered
    }

    var kind: Kind {
        switch self {
        case .data: .data
        case .noop: .noop
        case .subscriptionCommit: .subscriptionCommit
        case .subscriptionDelete: .subscriptionDelete
        case .queueClaim: .queueClaim
        case .queueAck: .queueAck
        case .queueDeadLettered: .queueDeadLettered
        }
    }

    /// The entry bytes for this record.
    func encoded() -> [UInt8] {
        if case .data(let record) = self {
            return DataRecord.entry(
                timestampMilliseconds: record.timestampMilliseconds, key: record.key, value: record.value,
                headers: record.headers, producer: record.producer)
        }
        var writer = BinaryWriter(capacity: 64)
        encode(into: &writer)
        return writer.bytes
    }

    func encode(into writer: inout BinaryWriter) {
        writer.write(Self.formatVersion)
        writer.write(kind.rawValue)
        switch self {
        case .data(let record): record.encode(into: &writer)
        case .noop: break
        case .subscriptionCommit(let commit):
            writer.write(string: commit.subscription)
            writer.write(varint: commit.subscriptionID)
            writer.write(varint: commit.offset.rawValue)
        case .subscriptionDelete(let delete):
            writer.write(string: delete.subscription)
            writer.write(varint: delete.subscriptionID)
        case .queueClaim(let claim):
            writer.write(fixed: claim.claimID)
            writer.write(varint: claim.claimedAtMilliseconds)
            writer.write(varint: claim.deadlineMilliseconds)
            OffsetRanges.encode(claim.offsets, into: &writer)
        case .queueAck(let ack):
            writer.write(varint: UInt64(ack.entries.count))
            for entry in ack.entries {
                writer.write(varint: entry.offset.rawValue)
                writer.write(fixed: entry.claimID)
            }
        case .queueDeadLettered(let deadLettered):
            writer.write(varint: deadLettered.deadLetteredAtMilliseconds)
            OffsetRanges.encode(deadLettered.offsets, into: &writer)
        }
    }

    /// Decodes one entry's bytes. Throws `DecodeError` on anything malformed.
    static func decode(_ bytes: [UInt8], limits: Limits = .standard) throws -> PartitionRecord {
        try bytes.withUnsafeBytes { try decode(raw: $0, limits: limits) }
    }

    static func decode(raw: UnsafeRawBufferPointer, limits: Limits = .standard) throws -> PartitionRecord {
        if raw.isEmpty { return .noop }
        var reader = BinaryReader(raw)
        let version = try reader.readByte()
        guard version == formatVersion else { throw DecodeError.invalid("partition record version \(version)") }
        let kindByte = try reader.readByte()
        guard let kind = Kind(rawValue: kindByte) else { throw DecodeError.invalid("partition record kind \(kindByte)") }
        let record = try decodeBody(kind, from: &reader, limits: limits)
        guard reader.isAtEnd else { throw DecodeError.invalid("\(reader.remaining) trailing bytes after record") }
        return record
    }

    /// A committed entry as the partition's state machines apply it: `decode`'s checks, but a
    /// data record comes back as its producer stamp alone (see `DataRecord.decodeStamp`).
    static func decodeForApply(raw: UnsafeRawBufferPointer, limits: Limits = .standard) throws -> AppliedRecord {
        guard raw.count >= 2, raw[1] == Kind.data.rawValue, raw[0] == formatVersion else {
            return .control(try decode(raw: raw, limits: limits))
        }
        var reader = BinaryReader(raw)
        try reader.skip(2)
        let stamp = try DataRecord.decodeStamp(from: &reader, limits: limits)
        guard reader.isAtEnd else { throw DecodeError.invalid("\(reader.remaining) trailing bytes after record") }
        return .data(producer: stamp)
    }

    private static func decodeBody(_ kind: Kind, from reader: inout BinaryReader, limits: Limits) throws -> PartitionRecord {
        switch kind {
        case .data:
            return .data(try DataRecord.decode(from: &reader, limits: limits))
        case .noop:
            return .noop
        case .subscriptionCommit:
            let name = try reader.readUTF8(limit: limits.resourceNameBytesMax)
            let id = try reader.readVarint()
            let offset = Offset(try reader.readVarint())
            return .subscriptionCommit(SubscriptionCommit(subscription: name, subscriptionID: id, offset: offset))
        case .subscriptionDelete:
            let name = try reader.readUTF8(limit: limits.resourceNameBytesMax)
            let id = try reader.readVarint()
            return .subscriptionDelete(SubscriptionDelete(subscription: name, subscriptionID: id))
        case .queueClaim:
            let claimID = try reader.read(fixed: UInt64.self)
            let claimedAt = try reader.readVarint()
            let deadline = try reader.readVarint()
            let offsets = try OffsetRanges.decode(from: &reader, limit: limits.queueBatchMessagesMax)
            return .queueClaim(QueueClaim(
                claimID: claimID, claimedAtMilliseconds: claimedAt, deadlineMilliseconds: deadline, offsets: offsets))
        case .queueAck:
            let count = try reader.readCount(limit: limits.queueBatchMessagesMax)
            var entries: [QueueAckEntry] = []
            entries.reserveCapacity(count)
            for _ in 0..<count {
                let offset = Offset(try reader.readVarint())
                entries.append(QueueAckEntry(offset: offset, claimID: try reader.read(fixed: UInt64.self)))
            }
            return .queueAck(QueueAck(entries: entries))
        case .queueDeadLettered:
            let at = try reader.readVarint()
            let offsets = try OffsetRanges.decode(from: &reader, limit: limits.queueBatchMessagesMax)
            return .queueDeadLettered(QueueDeadLettered(deadLetteredAtMilliseconds: at, offsets: offsets))
        }
    }
}

extension DataRecord {
    private static let keyFlag: UInt8 = 1
    private static let producerFlag: UInt8 = 2

    func encode(into writer: inout BinaryWriter) {
        Self.encodeBody(
            timestampMilliseconds: timestampMilliseconds, key: key, value: value, headers: headers, producer: producer, into: &writer)
    }

    /// The entry bytes of a data record (version and kind included) whose value is any bytes,
    /// a slice of a request's body for instance: written once, into an array of its final size.
    static func entry<Value: Collection<UInt8>>(
        timestampMilliseconds: UInt64, key: [UInt8]?, value: Value, headers: [Header], producer: ProducerStamp?
    ) -> [UInt8] {
        var writer = BinaryWriter(capacity: 2 + sizeBound(key: key, valueCount: value.count, headers: headers))
        writer.write(PartitionRecord.formatVersion)
        writer.write(PartitionRecord.Kind.data.rawValue)
        encodeBody(timestampMilliseconds: timestampMilliseconds, key: key, value: value, headers: headers, producer: producer, into: &writer)
        return writer.bytes
    }

    private static func encodeBody<Value: Collection<UInt8>>(
        timestampMilliseconds: UInt64, key: [UInt8]?, value: Value, headers: [Header], producer: ProducerStamp?,
        into writer: inout BinaryWriter
    ) {
        writer.write(varint: timestampMilliseconds)
        writer.write((key == nil ? 0 : keyFlag) | (producer == nil ? 0 : producerFlag))
        if let key { writer.write(lengthPrefixed: key) }
        writer.write(lengthPrefixed: value)
        writer.write(varint: UInt64(headers.count))
        for header in headers {
            writer.write(string: header.name)
            writer.write(lengthPrefixed: header.value)
        }
        if let producer {
            writer.write(varint: producer.producerID)
            writer.write(varint: producer.sequence)
            writer.write(varint: UInt64(producer.indexInBatch))
        }
    }

    static func decode(from reader: inout BinaryReader, limits: Limits) throws -> DataRecord {
        var key: [UInt8]?
        var value: [UInt8] = []
        var headers: [Header] = []
        let (timestamp, producer) = try read(
            from: &reader, limits: limits,
            key: { key = Array($0) }, value: { value = Array($0) },
            headerCount: { headers.reserveCapacity($0) },
            header: { name, headerValue in
                headers.append(Header(String(decoding: name, as: UTF8.self), Array(headerValue)))
            })
        return DataRecord(timestampMilliseconds: timestamp, key: key, value: value, headers: headers, producer: producer)
    }

    /// Checks a data record's body exactly as `decode` does and returns only its producer
    /// stamp, without copying its key, value or headers: applying a committed record needs
    /// nothing else, and the copy was a 1 KiB allocation per message on every replica.
    static func decodeStamp(from reader: inout BinaryReader, limits: Limits) throws -> ProducerStamp? {
        try read(from: &reader, limits: limits, key: { _ in }, value: { _ in }, headerCount: { _ in }, header: { _, _ in }).producer
    }

    /// The one reader of the data layout. Key, value and header fields reach the closures as
    /// views into the reader's bytes, valid only during the call; header names are checked to
    /// be UTF-8 here, so both decoders reject the same bytes.
    private static func read(
        from reader: inout BinaryReader, limits: Limits,
        key onKey: (UnsafeRawBufferPointer) -> Void, value onValue: (UnsafeRawBufferPointer) -> Void,
        headerCount onHeaderCount: (Int) -> Void, header onHeader: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) -> Void
    ) throws -> (timestamp: UInt64, producer: ProducerStamp?) {
        let timestamp = try reader.readVarint()
        let flags = try reader.readByte()
        guard flags & ~(keyFlag | producerFlag) == 0 else { throw DecodeError.invalid("data record flags \(flags)") }
        if flags & keyFlag != 0 { onKey(try reader.readLengthPrefixed(limit: limits.recordKeyBytesMax)) }
        onValue(try reader.readLengthPrefixed(limit: limits.recordValueBytesMax))
        let headerCount = try reader.readCount(limit: limits.recordHeadersMax)
        onHeaderCount(headerCount)
        for _ in 0..<headerCount {
            let name = try reader.readLengthPrefixed(limit: limits.recordHeaderNameBytesMax)
            guard name.withMemoryRebound(to: UInt8.self, { UTF8Validation.isValid(buffer: $0) }) else {
                throw DecodeError.invalid("string is not valid UTF-8")
            }
            onHeader(name, try reader.readLengthPrefixed(limit: limits.recordValueBytesMax))
        }
        var producer: ProducerStamp?
        if flags & producerFlag != 0 {
            let id = try reader.readVarint()
            let sequence = try reader.readVarint()
            let index = try reader.readVarint()
            guard index <= UInt64(UInt32.max) else { throw DecodeError.invalid("index in batch \(index)") }
            producer = ProducerStamp(producerID: id, sequence: sequence, indexInBatch: UInt32(index))
        }
        return (timestamp, producer)
    }

    /// An upper bound of `encodeBody`'s output, so an entry is allocated once at its final
    /// size. Varints take at most 10 bytes each.
    private static func sizeBound(key: [UInt8]?, valueCount: Int, headers: [Header]) -> Int {
        var bound = 10 + 1 + 10 + valueCount + 10 + 3 * 10
        if let key { bound += 10 + key.count }
        for header in headers { bound += 20 + header.name.utf8.count + header.value.count }
        return bound
    }
}

/// Ascending offset lists stored as runs, because claims and acks usually cover consecutive
/// messages: a claim of 1,000 consecutive offsets costs a few bytes.
enum OffsetRanges {
    /// `offsets` must be strictly ascending (the caller's invariant).
    static func encode(_ offsets: [Offset], into writer: inout BinaryWriter) {
        var runs: [(start: UInt64, length: UInt64)] = []
        for offset in offsets {
            if let last = runs.last, last.start + last.length == offset.rawValue {
                runs[runs.count - 1].length += 1
            } else {
                precondition(runs.last.map { $0.start + $0.length <= offset.rawValue } ?? true, "offsets not ascending")
                runs.append((offset.rawValue, 1))
            }
        }
        writer.write(varint: UInt64(runs.count))
        var previousEnd: UInt64 = 0
        for run in runs {
            writer.write(varint: run.start - previousEnd)
            writer.write(varint: run.length)
            previousEnd = run.start + run.length
        }
    }

    /// Throws when the total count exceeds `limit`, a run is empty, or offsets overflow.
    static func decode(from reader: inout BinaryReader, limit: Int) throws -> [Offset] {
        let runCount = try reader.readCount(limit: limit)
        var offsets: [Offset] = []
        var previousEnd: UInt64 = 0
        for _ in 0..<runCount {
            let (start, startOverflow) = previousEnd.addingReportingOverflow(try reader.readVarint())
            let length = try reader.readVarint()
            guard length >= 1, length <= UInt64(limit - offsets.count) else {
                throw DecodeError.invalid("offset run length \(length) (limit \(limit) offsets)")
            }
            let (end, endOverflow) = start.addingReportingOverflow(length)
            guard !startOverflow, !endOverflow else { throw DecodeError.invalid("offset run overflows") }
            for raw in start..<end { offsets.append(Offset(raw)) }
            previousEnd = end
        }
        return offsets
    }
}

extension BinaryReader {
    /// A varint element count, bounded so a corrupt count cannot make us reserve gigabytes.
    mutating func readCount(limit: Int) throws -> Int {
        let count = try readVarint()
        guard count <= UInt64(limit) else { throw DecodeError.lengthTooLarge(Int(clamping: count), limit: limit) }
        return Int(count)
    }

    /// A length-prefixed string that must be valid UTF-8 (the shared `readString` repairs bad
    /// bytes instead, which would make a decoded record differ from the bytes on disk).
    mutating func readUTF8(limit: Int) throws -> String {
        let raw = try readLengthPrefixed(limit: limit)
        let string = String(decoding: raw, as: UTF8.self)
        guard string.utf8.elementsEqual(raw) else { throw DecodeError.invalid("string is not valid UTF-8") }
        return string
    }
}
