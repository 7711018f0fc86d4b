/// Strict UTF-8 validation (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF.
/// `String(decoding:)` would silently repair bad input; MOM rejects it instead, so what a client
/// sent is exactly what is stored.
public enum UTF8Validation {
    public static func isValid<C: Collection<UInt8>>(_ bytes: C) -> Bool {
        if let result = bytes.withContiguousStorageIfAvailable({ isValid(buffer: $0) }) { return result }
        return Array(bytes).withUnsafeBufferPointer { isValid(buffer: $0) }
    }

    /// Returns the length of the valid sequence starting at `index`, or nil if it is invalid.
    @inline(__always)
    static func sequenceLength(_ buffer: UnsafeBufferPointer<UInt8>, at index: Int) -> Int? {
        let lead = buffer[index]
        if lead < 0x80 { return 1 }
        let remaining = buffer.count - index
        func continuation(_ offset: Int) -> Bool { buffer[index + offset] & 0xC0 == 0x80 }
        switch lead {
        case 0xC2...0xDF:
            return remaining >= 2 && continuation(1) ? 2 : nil
        case 0xE0...0xEF:
            guard remaining >= 3, continuation(1), continuation(2) else { return nil }
            let second = buffer[index + 1]
            if lead == 0xE0 && second < 0xA0 { return nil }  // overlong
            if lead == 0xED && second > 0x9F { return nil }  // UTF-16 surrogate
            return 3
        case 0xF0...0xF4:
            guard remaining >= 4, continuation(1), continuation(2), continuation(3) else { return nil }
            let second = buffer[index + 1]
            if lead == 0xF0 && second < 0x90 { return nil }  // overlong
            if lead == 0xF4 && second > 0x8F { return nil }  // above U+10FFFF
            return 4
        default:
            return nil
        }
    }

    /// ASCII goes eight bytes at a time (a word with no high bit is eight valid sequences);
    /// anything else byte by byte. Record values are mostly ASCII, and each fetched one is
    /// validated to choose between `value` and `value_base64`.
    public static func isValid(buffer: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = buffer.baseAddress else { return true }
        let raw = UnsafeRawPointer(base)
        let count = buffer.count
        var index = 0
        while index < count {
            while index + 8 <= count, raw.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 { index += 8 }
            guard index < count else { break }
            guard let length = sequenceLength(buffer, at: index) else { return false }
            index += length
        }
        return true
    }
}
