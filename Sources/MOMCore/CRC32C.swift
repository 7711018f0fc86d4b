import CCRC32C

/// CRC32C (Castagnoli), the checksum of every on-disk batch and every transport frame.
/// Uses the SSE4.2 crc32 instruction when the CPU has it, else a table-driven fallback.
public enum CRC32C {
    /// Whether the hardware path is in use on this machine.
    public static let usesHardware: Bool = mom_crc32c_hardware_available() != 0

    /// The checksum of `bytes`, continuing from `crc` (0 to start).
    @inlinable
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        if usesHardware { return hardware(crc, base, bytes.count) }
        return software(bytes, continuing: crc)
    }

    /// The checksum of a byte array.
    @inlinable
    public static func checksum(_ bytes: [UInt8], continuing crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, continuing: crc) }
    }

    /// The checksum of an array slice.
    @inlinable
    public static func checksum(_ bytes: ArraySlice<UInt8>, continuing crc: UInt32 = 0) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0, continuing: crc) }
    }

    @usableFromInline
    static func hardware(_ crc: UInt32, _ base: UnsafeRawPointer, _ count: Int) -> UInt32 {
        mom_crc32c_hardware(crc, base, count)
    }

    /// The portable path: a 256-entry table over the reflected polynomial 0x82F63B78.
    public static func software(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        var c = ~crc
        for byte in bytes {
            c = table[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8)
        }
        return ~c
    }

    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? (0x82F6_3B78 ^ (c >> 1)) : (c >> 1) }
        return c
    }
}
