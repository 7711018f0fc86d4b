import Foundation
import Testing
@testable import MOMCore

@Suite struct RecordBatchFormatTests {
    static let limits = RecordBatchFormat.DecodeLimits(.standard)

    static func sampleProduce() -> RecordBatchFormat.Batch {
        RecordBatchFormat.Batch(kind: .produce, producer: (7, 42), records: [
            .init(value: Array("plain".utf8)),
            .init(partition: 3, position: 9, key: [0, 255, 1], value: (0...255).map { UInt8($0) }, headers: [("trace", Array("abc".utf8)), ("é", [])]),
            .init(key: [], value: []),
        ])
    }

    @Test func produceAndFetchBatchesRoundTrip() throws {
        let produce = Self.sampleProduce()
        #expect(try RecordBatchFormat.decode(RecordBatchFormat.encode(produce), limits: Self.limits) == produce)
        let fetch = RecordBatchFormat.Batch(
            kind: .fetch, fetch: .init(nextOffset: 12, highWatermark: 20, logStartOffset: 1),
            records: [.init(offset: 10, timestampMilliseconds: 1_700_000_000_000, value: [1, 2]), .init(offset: 11, timestampMilliseconds: 0, key: [9], value: [])])
        #expect(try RecordBatchFormat.decode(RecordBatchFormat.encode(fetch), limits: Self.limits) == fetch)
        let anonymous = RecordBatchFormat.Batch(kind: .produce, records: [.init(value: [5])])
        let decoded = try RecordBatchFormat.decode(RecordBatchFormat.encode(anonymous), limits: Self.limits)
        #expect(decoded.producer == nil && decoded == anonymous)
    }

    /// The documented layout, byte for byte, so other clients can implement it from the docs.
    @Test func layoutMatchesTheDocumentation() throws {
        let bytes = RecordBatchFormat.encode(.init(kind: .produce, records: [.init(key: [0x6B], value: [0x76])]))
        let body: [UInt8] = [0b0000_0001, 1, 0x6B, 1, 0x76, 0]
        let crc = CRC32C.checksum(body)
        let expected: [UInt8] = Array("MOMB".utf8) + [1, 1, 0, 1] + [UInt8(body.count), 0, 0, 0]
            + [UInt8(crc & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 24)] + body
        #expect(bytes == expected)
    }

    static func mutated(_ change: (inout [UInt8]) -> Void) -> [UInt8] {
        var bytes = RecordBatchFormat.encode(sampleProduce())
        change(&bytes)
        return bytes
    }

    @Test(arguments: [
        ("empty", [UInt8]()),
        ("bad magic", mutated { $0[0] = UInt8(ascii: "X") }),
        ("version 2", mutated { $0[4] = 2 }),
        ("unknown kind", mutated { $0[5] = 9 }),
        ("unknown flag", mutated { $0[6] |= 0x80 }),
        ("truncated", mutated { $0.removeLast(3) }),
        ("trailing byte", mutated { $0.append(0) }),
        ("flipped value byte (CRC)", mutated { $0[$0.count - 20] ^= 0x01 }),
        ("header only", Array(mutated { _ in }.prefix(7))),
    ])
    func rejectsMalformedBatches(name: String, bytes: [UInt8]) {
        #expect(throws: RecordBatchFormat.Error.self, "\(name)") { try RecordBatchFormat.decode(bytes, limits: Self.limits) }
    }

    /// Framed records with a valid CRC but an invalid body still fail, with a reason.
    @Test func rejectsInvalidBodiesBehindValidChecksums() {
        func batch(body: [UInt8], count: UInt8 = 1) -> [UInt8] {
            let crc = CRC32C.checksum(body)
            return Array("MOMB".utf8) + [1, 1, 0, count] + [UInt8(body.count), 0, 0, 0]
                + [UInt8(crc & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 24)] + body
        }
        var small = Self.limits
        small.valueBytesMax = 2
        small.recordsMax = 1
        let cases: [(String, [UInt8], RecordBatchFormat.DecodeLimits)] = [
            ("unknown attribute", batch(body: [0x80, 0, 0]), Self.limits),
            ("value over the limit", batch(body: [0, 3, 1, 2, 3, 0]), small),
            ("count over the limit", batch(body: [0, 0, 0], count: 2), small),
            ("non-UTF-8 header value", batch(body: [0, 0, 1, 1, 0x61, 1, 0xFF]), Self.limits),
            ("empty header name", batch(body: [0, 0, 1, 0, 0]), Self.limits),
            ("bytes after the headers", batch(body: [0, 0, 0, 7]), Self.limits),
            ("a count with no records behind it", batch(body: [0, 0, 0], count: 100), Self.limits),
        ]
        for (name, bytes, limits) in cases {
            #expect(throws: RecordBatchFormat.Error.self, "\(name)") { try RecordBatchFormat.decode(bytes, limits: limits) }
        }
    }

    /// Random corruption never traps: every mutated body decodes or throws the typed error.
    /// `MOM_SEED=<n>` replays one seed.
    /// `decodeLeavingValues` is `decode` with each value located instead of copied: the same
    /// records once the values are filled in from their ranges, and the same errors.
    static func agree(_ bytes: [UInt8], _ context: Comment) {
        let copied = Result { () throws(RecordBatchFormat.Error) in try RecordBatchFormat.decode(bytes, limits: Self.limits) }
        let located = Result { () throws(RecordBatchFormat.Error) in try RecordBatchFormat.decodeLeavingValues(bytes, limits: Self.limits) }
        switch (copied, located) {
        case (.success(let batch), .success(let (sparse, ranges))):
            #expect(ranges.count == sparse.records.count, context)
            #expect(sparse.records.allSatisfy { $0.value.isEmpty }, context)
            var filled = sparse
            for index in filled.records.indices where index < ranges.count { filled.records[index].value = Array(bytes[ranges[index]]) }
            #expect(filled == batch, context)
        case (.failure(let first), .failure(let second)):
            #expect(first.description == second.description, context)
        default:
            Issue.record("decode and decodeLeavingValues disagree: \(copied) against \(located); \(context)")
        }
    }

    @Test func valuesLocatedInPlaceAgreeWithCopiedValues() {
        Self.agree(RecordBatchFormat.encode(Self.sampleProduce()), "the sample produce")
        Self.agree(RecordBatchFormat.encode(.init(kind: .produce, records: [])), "no records")
        Self.agree(RecordBatchFormat.encode(.init(kind: .produce, records: (0..<40).map { .init(position: UInt64($0), value: Array(repeating: UInt8($0), count: $0)) })), "40 records")
        Self.forEachCorruptedSample { seed, bytes in Self.agree(bytes, "MOM_SEED=\(seed)") }
    }

    /// The encoded sample produce with 1-4 random byte changes, cuts or insertions, per seed
    /// (`MOM_SEED` replays one).
    static func forEachCorruptedSample(_ body: (UInt64, [UInt8]) -> Void) {
        let seeds: [UInt64] = ProcessInfo.processInfo.environment["MOM_SEED"].flatMap(UInt64.init).map { [$0] } ?? Array(1...300)
        let original = RecordBatchFormat.encode(Self.sampleProduce())
        for seed in seeds {
            var random = SeededRandom(seed: seed)
            var bytes = original
            for _ in 0..<(1 + random.uniform(below: 4)) {
                let position = Int(random.uniform(below: UInt64(bytes.count)))
                switch random.uniform(below: 3) {
                case 0: bytes[position] = UInt8(truncatingIfNeeded: random.next())
                case 1: bytes.removeSubrange(position...)
                default: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: position)
                }
                if bytes.isEmpty { break }
            }
            body(seed, bytes)
        }
    }

    @Test func randomCorruptionThrowsButNeverTraps() {
        Self.forEachCorruptedSample { seed, bytes in
            do throws(RecordBatchFormat.Error) {
                _ = try RecordBatchFormat.decode(bytes, limits: Self.limits)
            } catch {
                #expect(!error.description.isEmpty, "MOM_SEED=\(seed)")
            }
        }
    }
}
