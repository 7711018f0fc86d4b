/// Base64 with the standard alphabet and `=` padding (RFC 4648 §4), for `value_base64`.
/// Decoding accepts input with or without padding, rejects any other byte (whitespace
/// included) and non-zero trailing bits, so each value has exactly one accepted encoding.
public enum Base64 {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// 255 marks a byte outside the alphabet.
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 255, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    /// Why base64 text was rejected.
    public struct DecodeError: Error, Equatable, Sendable, CustomStringConvertible {
        /// The offset of the first offending byte.
        public let offset: Int
        public var description: String { "invalid base64 at byte \(offset)" }
    }

    /// The encoding of `data` as a String.
    public static func encode<C: Collection<UInt8>>(_ data: C) -> String {
        var output: [UInt8] = []
        encode(data, into: &output)
        return String(decoding: output, as: UTF8.self)
    }

    /// Appends the encoding of `data` to `output`. Contiguous input (`[UInt8]`, `ArraySlice`)
    /// takes the specialized buffer loop below; this generic entry point is not inlinable, so
    /// walking an iterator here would go through witness tables one byte at a time.
    public static func encode<C: Collection<UInt8>>(_ data: C, into output: inout [UInt8]) {
        let handled: Void? = data.withContiguousStorageIfAvailable { buffer in
            encode(buffer: buffer, into: &output)
        }
        guard handled == nil else { return }
        let copy = Array(data)
        copy.withUnsafeBufferPointer { encode(buffer: $0, into: &output) }
    }

    /// Appends the encoding of the bytes in `buffer` to `output`: three input bytes become four
    /// output bytes, written straight into reserved capacity.
    public static func encode(buffer: UnsafeBufferPointer<UInt8>, into output: inout [UInt8]) {
        let inputCount = buffer.count
        guard inputCount > 0 else { return }
        let encodedCount = (inputCount + 2) / 3 * 4
        let equals = UInt8(ascii: "=")
        alphabet.withUnsafeBufferPointer { table in
            output.append(contentsOf: repeatElement(0, count: encodedCount))
            output.withUnsafeMutableBufferPointer { target in
                var write = target.count - encodedCount
                var read = 0
                while read + 3 <= inputCount {
                    let bits = UInt32(buffer[read]) << 16 | UInt32(buffer[read + 1]) << 8 | UInt32(buffer[read + 2])
                    target[write] = table[Int(bits >> 18 & 0x3F)]
                    target[write + 1] = table[Int(bits >> 12 & 0x3F)]
                    target[write + 2] = table[Int(bits >> 6 & 0x3F)]
                    target[write + 3] = table[Int(bits & 0x3F)]
                    read += 3
                    write += 4
                }
                let remaining = inputCount - read
                if remaining > 0 {
                    let second = remaining == 2 ? UInt32(buffer[read + 1]) : 0
                    let bits = UInt32(buffer[read]) << 16 | second << 8
                    target[write] = table[Int(bits >> 18 & 0x3F)]
                    target[write + 1] = table[Int(bits >> 12 & 0x3F)]
                    target[write + 2] = remaining == 2 ? table[Int(bits >> 6 & 0x3F)] : equals
                    target[write + 3] = equals
                }
            }
        }
    }

    /// Decodes base64 text.
    public static func decode(_ text: String) throws(DecodeError) -> [UInt8] {
        try decode(bytes: Array(text.utf8))
    }

    /// Decodes base64 bytes.
    public static func decode(bytes text: [UInt8]) throws(DecodeError) -> [UInt8] {
        var end = text.count
        if end % 4 == 0 && end > 0 {
            if text[end - 1] == UInt8(ascii: "=") { end -= 1 }
            if text[end - 1] == UInt8(ascii: "=") { end -= 1 }
        }
        let remainder = end % 4
        if remainder == 1 { throw DecodeError(offset: end - 1) }
        var output: [UInt8] = []
        output.reserveCapacity(end / 4 * 3 + 2)
        var accumulator: UInt32 = 0
        var pending = 0
        for index in 0..<end {
            let value = decodeTable[Int(text[index])]
            if value == 255 { throw DecodeError(offset: index) }
            accumulator = accumulator << 6 | UInt32(value)
            pending += 1
            if pending == 4 {
                output.append(UInt8(accumulator >> 16 & 0xFF))
                output.append(UInt8(accumulator >> 8 & 0xFF))
                output.append(UInt8(accumulator & 0xFF))
                accumulator = 0
                pending = 0
            }
        }
        switch pending {
        case 2:
            guard accumulator & 0xF == 0 else { throw DecodeError(offset: end - 1) }
            output.append(UInt8(accumulator >> 4 & 0xFF))
        case 3:
            guard accumulator & 0x3 == 0 else { throw DecodeError(offset: end - 1) }
            output.append(UInt8(accumulator >> 10 & 0xFF))
            output.append(UInt8(accumulator >> 2 & 0xFF))
        default:
            break
        }
        return output
    }
}
