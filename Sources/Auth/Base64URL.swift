/// base64url (RFC 4648 §5) without padding, as JWS compact serialization requires (RFC 7515 §2).
///
/// This is an encoding, not cryptography, so it is written here rather than pulled in. Decoding is
/// strict on purpose: it rejects padding, characters outside the alphabet, impossible lengths and
/// non-zero trailing bits. Accepting only the canonical form means one signature has exactly one
/// spelling, so a token cannot be re-spelled into a different string that still verifies.
public enum Base64URL {
    private static let alphabet: [UInt8] = Array(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Maps an ASCII byte to its 6-bit value, or 0xFF when the byte is not in the alphabet.
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (value, character) in alphabet.enumerated() {
            table[Int(character)] = UInt8(value)
        }
        return table
    }()

    /// Encodes `bytes` as unpadded base64url text.
    public static func encode<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> String {
        var output = [UInt8]()
        output.reserveCapacity((bytes.count * 4 + 2) / 3)
        var accumulator: UInt32 = 0
        var bitCount = 0
        for byte in bytes {
            accumulator = (accumulator << 8) | UInt32(byte)
            bitCount += 8
            while bitCount >= 6 {
                bitCount -= 6
                output.append(alphabet[Int((accumulator >> UInt32(bitCount)) & 0x3F)])
            }
        }
        if bitCount > 0 {
            output.append(alphabet[Int((accumulator << UInt32(6 - bitCount)) & 0x3F)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes unpadded, canonical base64url text, or returns nil when the text is not exactly that.
    public static func decode<Text: StringProtocol>(_ text: Text) -> [UInt8]? {
        decode(utf8: text.utf8)
    }

    /// Decodes unpadded, canonical base64url from its UTF-8 bytes, or returns nil.
    public static func decode<Bytes: Collection<UInt8>>(utf8 text: Bytes) -> [UInt8]? {
        // Token parts are contiguous (array slices, native strings); decoding from a raw buffer
        // keeps this hot path free of generic iteration and bounds checks.
        if let decoded = text.withContiguousStorageIfAvailable({ decode(buffer: $0) }) { return decoded }
        return Array(text).withUnsafeBufferPointer { decode(buffer: $0) }
    }

    private static func decode(buffer text: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        // A length of 1 mod 4 would leave 6 bits, which cannot hold a byte.
        if text.count % 4 == 1 { return nil }
        return decodeTable.withUnsafeBufferPointer { table -> [UInt8]? in
            var output = [UInt8]()
            output.reserveCapacity(text.count * 3 / 4)
            var accumulator: UInt32 = 0
            var bitCount: UInt32 = 0
            for character in text {
                let value = table[Int(character)]
                if value == 0xFF { return nil }
                accumulator = (accumulator << 6) | UInt32(value)
                bitCount += 6
                if bitCount >= 8 {
                    bitCount -= 8
                    output.append(UInt8(truncatingIfNeeded: accumulator >> bitCount))
                }
            }
            // The bits left over (2 or 4) pad the last character; canonical text has them zero.
            let leftoverMask: UInt32 = (1 << bitCount) - 1
            if accumulator & leftoverMask != 0 { return nil }
            return output
        }
    }
}
