/// Encoding and decoding of `RecordBatchFormat` (the layout is documented there).
extension RecordBatchFormat {
    private enum Attribute {
        static let key: UInt8 = 1 << 0
        static let partition: UInt8 = 1 << 1
        static let position: UInt8 = 1 << 2
        static let offset: UInt8 = 1 << 3
        static let timestamp: UInt8 = 1 << 4
        static let known: UInt8 = key | partition | position | offset | timestamp
    }

    private static let producerFlag: UInt8 = 1 << 0

    // MARK: Encoding

    /// Encodes a batch. Records are written one after the other with a length and CRC each.
    public static func encode(_ batch: Batch) -> [UInt8] {
        var writer = BinaryWriter(capacity: 32 + batch.records.reduce(0) { $0 + $1.value.count + ($1.key?.count ?? 0) + 24 })
        switch batch.kind {
        case .produce:
            beginProduce(&writer, producer: batch.producer, count: batch.records.count)
        case .fetch:
            beginFetch(&writer, position: batch.fetch ?? FetchPosition(nextOffset: 0, highWatermark: 0, logStartOffset: 0), count: batch.records.count)
        }
        for record in batch.records { append(record, to: &writer) }
        return writer.bytes
    }

    /// Writes a produce batch's header; `count` records must follow (`append`).
    public static func beginProduce(_ writer: inout BinaryWriter, producer: (id: UInt64, sequence: UInt64)?, count: Int) {
        writer.write(raw: magic)
        writer.write(version)
        writer.write(Kind.produce.rawValue)
        writer.write(producer != nil ? producerFlag : 0)
        if let producer {
            writer.write(varint: producer.id)
            writer.write(varint: producer.sequence)
        }
        writer.write(varint: UInt64(count))
    }

    /// Writes a fetch answer's header; `count` records must follow (`append`).
    public static func beginFetch(_ writer: inout BinaryWriter, position: FetchPosition, count: Int) {
        writer.write(raw: magic)
        writer.write(version)
        writer.write(Kind.fetch.rawValue)
        writer.write(0)
        writer.write(varint: position.nextOffset)
        writer.write(varint: position.highWatermark)
        writer.write(varint: position.logStartOffset)
        writer.write(varint: UInt64(count))
    }

    /// Appends one framed record: a length and CRC placeholder, the body, then the patch.
    public static func append(_ record: Record, to writer: inout BinaryWriter) {
        append(
            partition: record.partition, position: record.position, offset: record.offset,
            timestampMilliseconds: record.timestampMilliseconds, key: record.key, value: record.value,
            headers: record.headers, to: &writer)
    }

    /// The same framing for a value held as any bytes (a slice of a request's body, say),
    /// without copying it into a `Record` first.
    public static func append<Value: Collection<UInt8>>(
        partition: UInt64? = nil, position: UInt64? = nil, offset: UInt64? = nil, timestampMilliseconds: UInt64? = nil,
        key: [UInt8]?, value: Value, headers: [(name: String, value: [UInt8])], to writer: inout BinaryWriter
    ) {
        let frameStart = writer.count
        writer.write(fixed: UInt32(0))
        writer.write(fixed: UInt32(0))
        let bodyStart = writer.count
        var attributes: UInt8 = 0
        if key != nil { attributes |= Attribute.key }
        if partition != nil { attributes |= Attribute.partition }
        if position != nil { attributes |= Attribute.position }
        if offset != nil { attributes |= Attribute.offset }
        if timestampMilliseconds != nil { attributes |= Attribute.timestamp }
        writer.write(attributes)
        if let partition { writer.write(varint: partition) }
        if let position { writer.write(varint: position) }
        if let offset { writer.write(varint: offset) }
        if let timestampMilliseconds { writer.write(varint: timestampMilliseconds) }
        if let key { writer.write(lengthPrefixed: key) }
        writer.write(lengthPrefixed: value)
        writer.write(varint: UInt64(headers.count))
        for header in headers {
            writer.write(string: header.name)
            writer.write(lengthPrefixed: header.value)
        }
        let bodyLength = writer.count - bodyStart
        let crc = writer.bytes.withUnsafeBytes { CRC32C.checksum(UnsafeRawBufferPointer(rebasing: $0[bodyStart..<(bodyStart + bodyLength)])) }
        writer.patch(fixedUInt32: UInt32(bodyLength), at: frameStart)
        writer.patch(fixedUInt32: crc, at: frameStart + 4)
    }

    // MARK: Decoding

    /// Decodes a whole body; anything malformed throws `Error` with a reason fit for a 400.
    public static func decode(_ bytes: [UInt8], limits: DecodeLimits) throws(Error) -> Batch {
        try decode(bytes, limits: limits, locatesValues: false).batch
    }

    /// As `decode`, with the same checks, but each record's `value` is left empty and its place
    /// in `bytes` is returned instead (`valueRanges[i]` for record i): a caller that keeps
    /// `bytes` slices the values rather than copying them (a leader reading a forwarded share).
    public static func decodeLeavingValues(_ bytes: [UInt8], limits: DecodeLimits) throws(Error) -> (batch: Batch, valueRanges: [Range<Int>]) {
        try decode(bytes, limits: limits, locatesValues: true)
    }

    /// Values are copied into the records, or only located (`valueRanges`) with `locatesValues`.
    private static func decode(_ bytes: [UInt8], limits: DecodeLimits, locatesValues: Bool) throws(Error) -> (batch: Batch, valueRanges: [Range<Int>]) {
        do {
            return try bytes.withUnsafeBytes { raw in
                var reader = BinaryReader(raw)
                var locator = locatesValues ? ValueLocator(base: raw.baseAddress) : nil
                let batch = try decodeBatch(&reader, limits: limits, locator: &locator)
                return (batch, locator?.ranges ?? [])
            }
        } catch let error as Error {
            throw error
        } catch {
            throw Error("malformed \(mediaType) body: \(error)")
        }
    }

    /// Where the values sit in the body being decoded, when they are not copied.
    private struct ValueLocator {
        let base: UnsafeRawPointer?
        var ranges: [Range<Int>] = []

        mutating func note(_ value: UnsafeRawBufferPointer) {
            let start = value.isEmpty || base == nil ? 0 : base!.distance(to: value.baseAddress!)
            ranges.append(start..<(start + value.count))
        }
    }

    private static func decodeBatch(_ reader: inout BinaryReader, limits: DecodeLimits, locator: inout ValueLocator?) throws -> Batch {
        guard reader.remaining >= 7, Array(try reader.readRaw(count: 4)) == magic else {
            throw Error("not a \(mediaType) body: it must start with \"MOMB\"")
        }
        let version = try reader.readByte()
        guard version == Self.version else { throw Error("unsupported \(mediaType) version \(version); this server reads version \(Self.version)") }
        guard let kind = Kind(rawValue: try reader.readByte()) else { throw Error("unknown batch kind; 1 is produce, 2 is a fetch answer") }
        let flags = try reader.readByte()
        guard flags & ~producerFlag == 0, kind == .produce || flags == 0 else { throw Error("unknown batch flags \(flags)") }
        var batch = Batch(kind: kind, records: [])
        switch kind {
        case .produce:
            if flags & producerFlag != 0 { batch.producer = (try reader.readVarint(), try reader.readVarint()) }
        case .fetch:
            batch.fetch = FetchPosition(nextOffset: try reader.readVarint(), highWatermark: try reader.readVarint(), logStartOffset: try reader.readVarint())
        }
        let count = try reader.readVarint()
        guard count <= UInt64(limits.recordsMax) else { throw Error("at most \(limits.recordsMax) records per batch, got \(count)") }
        // Each record takes at least 8 framing bytes: a count beyond that is a lie, not a reason to reserve memory.
        batch.records.reserveCapacity(min(Int(count), reader.remaining / 8))
        locator?.ranges.reserveCapacity(batch.records.capacity)
        for index in 0..<Int(count) {
            batch.records.append(try decodeFramedRecord(&reader, index: index, limits: limits, locator: &locator))
        }
        guard reader.isAtEnd else { throw Error("\(reader.remaining) bytes after the last record") }
        return batch
    }

    private static func decodeFramedRecord(_ reader: inout BinaryReader, index: Int, limits: DecodeLimits, locator: inout ValueLocator?) throws -> Record {
        guard reader.remaining >= 8 else { throw Error("record \(index) is truncated") }
        let length = Int(try reader.read(fixed: UInt32.self))
        let expected = try reader.read(fixed: UInt32.self)
        guard length <= reader.remaining else { throw Error("record \(index) claims \(length) bytes, \(reader.remaining) remain") }
        let body = try reader.readRaw(count: length)
        guard CRC32C.checksum(body) == expected else { throw Error("record \(index) fails its CRC32C check") }
        var bodyReader = BinaryReader(body)
        let record = try decodeBody(&bodyReader, index: index, limits: limits, locator: &locator)
        guard bodyReader.isAtEnd else { throw Error("record \(index) has \(bodyReader.remaining) bytes after its headers") }
        return record
    }

    private static func decodeBody(_ reader: inout BinaryReader, index: Int, limits: DecodeLimits, locator: inout ValueLocator?) throws -> Record {
        let attributes = try reader.readByte()
        guard attributes & ~Attribute.known == 0 else { throw Error("record \(index) has unknown attribute bits \(attributes)") }
        var record = Record(value: [])
        if attributes & Attribute.partition != 0 { record.partition = try reader.readVarint() }
        if attributes & Attribute.position != 0 { record.position = try reader.readVarint() }
        if attributes & Attribute.offset != 0 { record.offset = try reader.readVarint() }
        if attributes & Attribute.timestamp != 0 { record.timestampMilliseconds = try reader.readVarint() }
        if attributes & Attribute.key != 0 {
            record.key = Array(try lengthPrefixed(&reader, limit: limits.keyBytesMax, what: "record \(index): key"))
        }
        let value = try lengthPrefixed(&reader, limit: limits.valueBytesMax, what: "record \(index): value")
        if locator == nil { record.value = Array(value) } else { locator?.note(value) }
        let headerCount = try reader.readVarint()
        guard headerCount <= UInt64(limits.headersMax) else { throw Error("record \(index): at most \(limits.headersMax) headers") }
        for _ in 0..<Int(headerCount) {
            let name = try lengthPrefixed(&reader, limit: limits.headerNameBytesMax, what: "record \(index): header name")
            let value = try lengthPrefixed(&reader, limit: limits.valueBytesMax, what: "record \(index): header value")
            guard !name.isEmpty, let text = String(validating: name, as: UTF8.self), String(validating: value, as: UTF8.self) != nil else {
                throw Error("record \(index): header names must be 1…\(limits.headerNameBytesMax) bytes and names and values UTF-8")
            }
            record.headers.append((text, Array(value)))
        }
        return record
    }

    /// `what` names the field in an error only: an autoclosure, so a valid record (the hot
    /// path, every record of every binary produce) formats no string.
    private static func lengthPrefixed(_ reader: inout BinaryReader, limit: Int, what: @autoclosure () -> String) throws -> UnsafeRawBufferPointer {
        do {
            return try reader.readLengthPrefixed(limit: limit)
        } catch DecodeError.lengthTooLarge(let length, _) {
            throw Error("\(what()) of \(length) bytes is over the limit of \(limit)")
        }
    }
}
