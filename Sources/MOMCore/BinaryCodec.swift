/// The binary codec used on disk and on the wire: little-endian fixed-width integers,
/// LEB128 unsigned varints, zig-zag signed varints, and length-prefixed byte strings.
/// Decoding is total: malformed input throws `DecodeError`, it never traps.

/// Why a decode failed. Callers treat it as corrupt input, never as a programmer error.
public enum DecodeError: Error, Equatable, Sendable {
    case truncated(needed: Int, available: Int)
    case varintTooLong
    case lengthTooLarge(Int, limit: Int)
    case invalid(String)
}

/// Appends encoded values to a growable byte buffer.
public struct BinaryWriter: Sendable {
    public private(set) var bytes: [UInt8]

    public init(capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public var count: Int { bytes.count }

    @inlinable public mutating func write(_ value: UInt8) { bytesAppend(value) }

    @usableFromInline mutating func bytesAppend(_ value: UInt8) { bytes.append(value) }

    public mutating func write<I: FixedWidthInteger>(fixed value: I) {
        var v = value.littleEndian
        withUnsafeBytes(of: &v) { bytes.append(contentsOf: $0) }
    }

    public mutating func write(varint value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func write(signedVarint value: Int64) {
        write(varint: UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// A varint length, then the bytes.
    public mutating func write<Bytes: Collection>(lengthPrefixed data: Bytes) where Bytes.Element == UInt8 {
        write(varint: UInt64(data.count))
        bytes.append(contentsOf: data)
    }

    /// A varint length, then the string's UTF-8, copied straight from its storage.
    public mutating func write(string: String) {
        var string = string
        string.withUTF8 { write(lengthPrefixed: $0) }
    }

    public mutating func write<Bytes: Sequence>(raw data: Bytes) where Bytes.Element == UInt8 {
        bytes.append(contentsOf: data)
    }

    /// Overwrites 4 bytes at `position` (for back-patching lengths and checksums).
    public mutating func patch(fixedUInt32 value: UInt32, at position: Int) {
        precondition(position >= 0 && position + 4 <= bytes.count, "patch out of range")
        var v = value.littleEndian
        withUnsafeBytes(of: &v) { raw in
            for i in 0..<4 { bytes[position + i] = raw[i] }
        }
    }

    public mutating func removeAll(keepingCapacity: Bool = true) {
        bytes.removeAll(keepingCapacity: keepingCapacity)
    }
}

/// Reads encoded values from a byte buffer, front to back.
public struct BinaryReader {
    public let bytes: UnsafeRawBufferPointer
    public private(set) var position: Int

    public init(_ bytes: UnsafeRawBufferPointer, position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    public var remaining: Int { bytes.count - position }
    public var isAtEnd: Bool { position >= bytes.count }

    private func require(_ n: Int) throws {
        if n < 0 || remaining < n { throw DecodeError.truncated(needed: n, available: remaining) }
    }

    public mutating func readByte() throws -> UInt8 {
        try require(1)
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func read<I: FixedWidthInteger>(fixed type: I.Type) throws -> I {
        let size = MemoryLayout<I>.size
        try require(size)
        var value = I.zero
        withUnsafeMutableBytes(of: &value) { target in
            target.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[position..<(position + size)]))
        }
        position += size
        return I(littleEndian: value)
    }

    public mutating func readVarint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        for _ in 0..<10 {
            let byte = try readByte()
            if shift == 63 && byte > 1 { throw DecodeError.varintTooLong }
            result |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
        throw DecodeError.varintTooLong
    }

    public mutating func readSignedVarint() throws -> Int64 {
        let raw = try readVarint()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// A varint length (at most `limit`), then that many bytes.
    public mutating func readLengthPrefixed(limit: Int) throws -> UnsafeRawBufferPointer {
        let length = try readVarint()
        guard length <= UInt64(limit) else { throw DecodeError.lengthTooLarge(Int(clamping: length), limit: limit) }
        return try readRaw(count: Int(length))
    }

    public mutating func readString(limit: Int) throws -> String {
        let raw = try readLengthPrefixed(limit: limit)
        return String(decoding: raw, as: UTF8.self)
    }

    public mutating func readRaw(count: Int) throws -> UnsafeRawBufferPointer {
        try require(count)
        defer { position += count }
        return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + count)])
    }

    public mutating func skip(_ count: Int) throws {
        try require(count)
        position += count
    }
}
