import Testing
@testable import MOMCore

/// Runs `body` over a reader of `bytes`; keeps the unsafe pointer inside one call.
private func decode<T>(_ bytes: [UInt8], _ body: (inout BinaryReader) throws -> T) throws -> T {
    try bytes.withUnsafeBytes { raw in
        var reader = BinaryReader(raw)
        return try body(&reader)
    }
}

@Suite struct BinaryCodecTests {
    @Test func varintRoundTripsBoundaries() throws {
        let values: [UInt64] = [0, 1, 127, 128, 255, 300, 16_383, 16_384, UInt64(UInt32.max), UInt64.max]
        var writer = BinaryWriter()
        for v in values { writer.write(varint: v) }
        let (decoded, atEnd) = try decode(writer.bytes) { reader in
            (try values.map { _ in try reader.readVarint() }, reader.isAtEnd)
        }
        #expect(decoded == values)
        #expect(atEnd)
    }

    @Test func varintEncodingIsLEB128() {
        var writer = BinaryWriter()
        writer.write(varint: 300)
        #expect(writer.bytes == [0xAC, 0x02])
    }

    @Test func signedVarintRoundTrips() throws {
        let values: [Int64] = [0, -1, 1, -64, 64, Int64.min, Int64.max]
        var writer = BinaryWriter()
        for v in values { writer.write(signedVarint: v) }
        let decoded = try decode(writer.bytes) { reader in try values.map { _ in try reader.readSignedVarint() } }
        #expect(decoded == values)
    }

    @Test func fixedAndStringsRoundTrip() throws {
        var writer = BinaryWriter()
        writer.write(fixed: UInt32(0xDEAD_BEEF))
        writer.write(fixed: Int64(-42))
        writer.write(string: "héllo")
        writer.write(lengthPrefixed: [1, 2, 3] as [UInt8])
        #expect(Array(writer.bytes.prefix(4)) == [0xEF, 0xBE, 0xAD, 0xDE])
        let (a, b, c, d) = try decode(writer.bytes) { reader in
            (try reader.read(fixed: UInt32.self), try reader.read(fixed: Int64.self),
             try reader.readString(limit: 100), Array(try reader.readLengthPrefixed(limit: 3)))
        }
        #expect(a == 0xDEAD_BEEF)
        #expect(b == -42)
        #expect(c == "héllo")
        #expect(d == [1, 2, 3])
    }

    @Test func truncatedInputThrows() {
        #expect(throws: DecodeError.self) { try decode([0x80, 0x80]) { try $0.readVarint() } }
        #expect(throws: DecodeError.self) { try decode([1, 2]) { try $0.read(fixed: UInt32.self) } }
    }

    @Test func overlongVarintAndLengthLimitThrow() {
        let overlong = [UInt8](repeating: 0xFF, count: 11)
        #expect(throws: DecodeError.varintTooLong) { try decode(overlong) { try $0.readVarint() } }
        var writer = BinaryWriter()
        writer.write(lengthPrefixed: [UInt8](repeating: 9, count: 10))
        #expect(throws: DecodeError.lengthTooLarge(10, limit: 5)) {
            try decode(writer.bytes) { try $0.readLengthPrefixed(limit: 5).count }
        }
    }

    @Test func patchOverwritesInPlace() {
        var writer = BinaryWriter()
        writer.write(fixed: UInt32(0))
        writer.write(1)
        writer.patch(fixedUInt32: 0x0102_0304, at: 0)
        #expect(writer.bytes == [4, 3, 2, 1, 1])
    }
}
