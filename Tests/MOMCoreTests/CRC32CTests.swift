import Testing
@testable import MOMCore

@Suite struct CRC32CTests {
    // Known vectors: RFC 3720 appendix B.4 and the classic check value.
    static let vectors: [([UInt8], UInt32)] = [
        (Array("123456789".utf8), 0xE306_9283),
        ([UInt8](repeating: 0, count: 32), 0x8A91_36AA),
        ([UInt8](repeating: 0xFF, count: 32), 0x62A8_AB43),
        ((0..<32).map { UInt8($0) }, 0x46DD_794E),
        ((0..<32).map { UInt8(31 - $0) }, 0x113F_DB5C),
        ([], 0),
    ]

    @Test func softwareMatchesKnownVectors() {
        for (input, expected) in Self.vectors {
            let crc = input.withUnsafeBytes { CRC32C.software($0) }
            #expect(crc == expected, "software crc of \(input.count) bytes")
        }
    }

    @Test func hardwareMatchesKnownVectors() throws {
        try #require(CRC32C.usesHardware, "this machine has SSE4.2; the hardware path must be tested")
        for (input, expected) in Self.vectors {
            let crc = input.withUnsafeBytes { raw -> UInt32 in
                guard let base = raw.baseAddress else { return 0 }
                return CRC32C.hardware(0, base, raw.count)
            }
            #expect(crc == expected, "hardware crc of \(input.count) bytes")
        }
    }

    @Test func continuationEqualsOneShot() {
        var random = SeededRandom(seed: 7)
        for length in [1, 7, 8, 9, 63, 64, 65, 1000, 4097] {
            let data = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let whole = CRC32C.checksum(data)
            let split = length / 3
            let first = CRC32C.checksum(Array(data[..<split]))
            let continued = CRC32C.checksum(Array(data[split...]), continuing: first)
            #expect(whole == continued)
            #expect(whole == data.withUnsafeBytes { CRC32C.software($0) })
        }
    }

    /// The hardware path runs three chains over blocks of 3 × 256 and 3 × 2,048 bytes and
    /// joins them with shift tables: every length around those steps, at every alignment,
    /// must match the byte-at-a-time table.
    @Test func hardwareChainsMatchTheTableAcrossBlockSizes() throws {
        try #require(CRC32C.usesHardware, "this machine has SSE4.2; the hardware path must be tested")
        var random = SeededRandom(seed: 11)
        let data = (0..<20_000).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let lengths = [767, 768, 769, 775, 776, 1_535, 1_536, 6_143, 6_144, 6_145, 6_912, 12_288, 13_056, 19_990]
        data.withUnsafeBytes { raw in
            for length in lengths {
                for start in 0..<9 {
                    let slice = UnsafeRawBufferPointer(rebasing: raw[start..<(start + length)])
                    let expected = CRC32C.software(slice, continuing: 0x1234_5678)
                    #expect(CRC32C.hardware(0x1234_5678, slice.baseAddress!, length) == expected, "\(length) bytes at +\(start)")
                }
            }
        }
    }

    @Test func detectsSingleBitFlip() {
        var data = Array("the quick brown fox".utf8)
        let before = CRC32C.checksum(data)
        data[3] ^= 0x10
        #expect(CRC32C.checksum(data) != before)
    }
}
