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
        try text.withUnsafeBufferPointer { buffer throws(DecodeError) in try decode(buffer: buffer) }
    }

    /// Decodes base64 bytes in place, e.g. a slice of a request body (no copy of the text).
    /// Four characters at a time straight into the result's storage: this runs over every
    /// `value_base64` of a JSON produce body.
    public static func decode(buffer text: UnsafeBufferPointer<UInt8>) throws(DecodeError) -> [UInt8] {
        var end = text.count
        if end % 4 == 0 && end > 0 {
            if text[end - 1] == UInt8(ascii: "=") { end -= 1 }
            if text[end - 1] == UInt8(ascii: "=") { end -= 1 }
        }
        let remainder = end % 4
        if remainder == 1 { throw DecodeError(offset: end - 1) }
        let blocksEnd = end - remainder
        let outputCount = blocksEnd / 4 * 3 + (remainder == 0 ? 0 : remainder - 1)
        var failure: DecodeError?
        let output = decodeTable.withUnsafeBufferPointer { table in
            [UInt8](unsafeUninitializedCapacity: outputCount) { target, initialized in
                initialized = 0
                // The first byte outside the alphabet among `count` bytes from `start`.
                func firstInvalid(_ start: Int, _ count: Int) -> DecodeError? {
                    for index in start..<start + count where table[Int(text[index])] == 255 { return DecodeError(offset: index) }
                    return nil
                }
                var read = 0
                var write = 0
                while read < blocksEnd {
                    let a = table[Int(text[read])], b = table[Int(text[read + 1])]
                    let c = table[Int(text[read + 2])], d = table[Int(text[read + 3])]
                    // Valid sextets are below 64; 255 marks a byte outside the alphabet.
                    if (a | b | c | d) & 0xC0 != 0 {
                        failure = firstInvalid(read, 4)
                        return
                    }
                    let bits = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                    target[write] = UInt8(truncatingIfNeeded: bits >> 16)
                    target[write + 1] = UInt8(truncatingIfNeeded: bits >> 8)
                    target[write + 2] = UInt8(truncatingIfNeeded: bits)
                    read += 4
                    write += 3
                }
                if remainder > 0 {
                    if let invalid = firstInvalid(read, remainder) {
                        failure = invalid
                        return
                    }
                    let a = UInt32(table[Int(text[read])]), b = UInt32(table[Int(text[read + 1])])
                    let c = remainder == 3 ? UInt32(table[Int(text[read + 2])]) : 0
                    // Non-zero bits after the last whole byte would give a second encoding.
                    guard (remainder == 2 ? b & 0xF : c & 0x3) == 0 else {
                        failure = DecodeError(offset: end - 1)
                        return
                    }
                    target[write] = UInt8(truncatingIfNeeded: a << 2 | b >> 4)
                    if remainder == 3 { target[write + 1] = UInt8(truncatingIfNeeded: b << 4 | c >> 2) }
                    write += remainder - 1
                }
                initialized = write
            }
        }
        if let failure { throw failure }
        return output
    }
}
