import HTTPServer
import MOMCore
import Testing
@testable import Broker

@Suite struct PartitionRecordCodecTests {
    static let samples: [PartitionRecord] = [
        .data(DataRecord(timestampMilliseconds: 1_700_000_000_000, value: Array("hello".utf8))),
        .data(DataRecord(
            timestampMilliseconds: 0, key: [], value: [],
            headers: [Header("content-type", Array("text/plain".utf8)), Header("é", [0, 255])],
            producer: ProducerStamp(producerID: .max, sequence: 42, indexInBatch: 7))),
        .data(DataRecord(timestampMilliseconds: 5, key: [1, 2, 3], value: [UInt8](repeating: 9, count: 300))),
        .noop,
        .subscriptionCommit(SubscriptionCommit(subscription: "billing", subscriptionID: 3, offset: Offset(99))),
        .subscriptionDelete(SubscriptionDelete(subscription: "billing", subscriptionID: 3)),
        .queueClaim(QueueClaim(
            claimID: 0xDEAD_BEEF_0123_4567, claimedAtMilliseconds: 10, deadlineMilliseconds: 30_010,
            offsets: [0, 1, 2, 5, 6, 100, 1 << 40].map(Offset.init))),
        .queueClaim(QueueClaim(claimID: 0, claimedAtMilliseconds: 0, deadlineMilliseconds: 0, offsets: [])),
        .queueAck(QueueAck(entries: [
            QueueAckEntry(offset: Offset(3), claimID: 1), QueueAckEntry(offset: Offset(1), claimID: .max),
        ])),
        .queueDeadLettered(QueueDeadLettered(deadLetteredAtMilliseconds: 77, offsets: [Offset(4), Offset(9)])),
    ]

    @Test(arguments: samples) func roundTrips(_ record: PartitionRecord) throws {
        let bytes = record.encoded()
        #expect(bytes.first == PartitionRecord.formatVersion)
        #expect(try PartitionRecord.decode(bytes) == record)
    }

    @Test func emptyEntryIsNoop() throws {
        #expect(try PartitionRecord.decode([]) == .noop)
        #expect(PartitionRecord.noop.isControl)
        #expect(!PartitionRecord.samplesData.isControl)
    }

    @Test func everyTruncationThrowsAndNeverTraps() {
        for record in Self.samples {
            let bytes = record.encoded()
            for length in 1..<bytes.count {
                #expect(throws: DecodeError.self) { try PartitionRecord.decode(Array(bytes.prefix(length))) }
            }
        }
    }

    @Test func rejectsMalformedInput() {
        let valid = PartitionRecord.samplesData.encoded()
        let cases: [[UInt8]] = [
            [2, 1],  // unknown version
            [1, 0],  // unknown kind
            [1, 99],
            valid + [0],  // trailing byte
            [1, 1, 0, 0b100, 0, 0],  // unknown data flag
            [1, 1, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F],  // value length beyond the limit
            [1, 3, 2, 0xC3, 0x28, 1, 1],  // subscription name is not UTF-8
            [1, 5] + [UInt8](repeating: 0, count: 8) + [0, 0, 1, 0, 0],  // claim run of length 0
            [1, 6, 0xE9, 0x07],  // 1001 ack entries > queueBatchMessagesMax
            [1, 1] + [UInt8](repeating: 0xFF, count: 11),  // varint too long
        ]
        for bytes in cases {
            #expect(throws: DecodeError.self, "\(bytes)") { try PartitionRecord.decode(bytes) }
        }
    }

    @Test func claimRunsOverflowingUInt64AreRejected() {
        var writer = BinaryWriter()
        writer.write(UInt8(1))
        writer.write(PartitionRecord.Kind.queueClaim.rawValue)
        writer.write(fixed: UInt64(1))
        writer.write(varint: 0)
        writer.write(varint: 0)
        writer.write(varint: 1)
        writer.write(varint: UInt64.max)
        writer.write(varint: 2)
        #expect(throws: DecodeError.self) { try PartitionRecord.decode(writer.bytes) }
    }

    @Test func limitsBoundKeysHeadersAndClaims() throws {
        var limits = Limits()
        limits.recordKeyBytesMax = 2
        limits.recordHeadersMax = 1
        limits.queueBatchMessagesMax = 3
        let bigKey = PartitionRecord.data(DataRecord(timestampMilliseconds: 0, key: [1, 2, 3], value: []))
        #expect(throws: DecodeError.self) { try PartitionRecord.decode(bigKey.encoded(), limits: limits) }
        let headers = PartitionRecord.data(DataRecord(
            timestampMilliseconds: 0, value: [], headers: [Header("a", []), Header("b", [])]))
        #expect(throws: DecodeError.self) { try PartitionRecord.decode(headers.encoded(), limits: limits) }
        let claim = PartitionRecord.queueClaim(QueueClaim(
            claimID: 1, claimedAtMilliseconds: 0, deadlineMilliseconds: 1, offsets: (0..<4).map(Offset.init)))
        #expect(throws: DecodeError.self) { try PartitionRecord.decode(claim.encoded(), limits: limits) }
        let smallClaim = PartitionRecord.queueClaim(QueueClaim(
            claimID: 1, claimedAtMilliseconds: 0, deadlineMilliseconds: 1, offsets: (0..<3).map(Offset.init)))
        #expect(try PartitionRecord.decode(smallClaim.encoded(), limits: limits) == smallClaim)
    }

    @Test func consecutiveClaimOffsetsEncodeCompactly() {
        let claim = PartitionRecord.queueClaim(QueueClaim(
            claimID: 1, claimedAtMilliseconds: 0, deadlineMilliseconds: 1, offsets: (1000..<2000).map(Offset.init)))
        #expect(claim.encoded().count < 24)
    }

    @Test func seededRandomBytesNeverTrap() {
        for seed in TestSeed.seeds(count: 4, base: 11) {
            var random = SeededRandom(seed: seed)
            for _ in 0..<2000 {
                let length = Int(random.uniform(below: 40))
                var bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
                if length > 1 && random.chance(3, in: 4) {
                    bytes[0] = 1
                    bytes[1] = UInt8(1 + random.uniform(below: 7))
                }
                // Either it throws, or what it decodes to survives its own round trip (random
                // bytes may be non-canonical, e.g. padded varints, so we cannot compare bytes).
                if let record = try? PartitionRecord.decode(bytes) {
                    #expect((try? PartitionRecord.decode(record.encoded())) == record, "MOM_SEED=\(seed) bytes \(bytes)")
                }
            }
        }
    }

    /// The leader writes an entry straight from a slice of the request body: the same bytes as
    /// encoding the record.
    @Test func entryFromASliceEncodesLikeTheRecord() {
        for case .data(let record) in Self.samples {
            let padded = [7, 7] + record.value + [7]
            let entry = DataRecord.entry(
                timestampMilliseconds: record.timestampMilliseconds, key: record.key, value: padded[2..<(2 + record.value.count)],
                headers: record.headers, producer: record.producer)
            #expect(entry == PartitionRecord.data(record).encoded())
        }
    }

    /// Header names are checked with `UTF8Validation`; it must agree with the round trip the
    /// decoder used before (`String(decoding:)` repairs what is invalid, so a repaired string
    /// differs from its bytes) on the sequences UTF-8 forbids and on random bytes.
    @Test func headerNameCheckAgreesWithTheStringRoundTrip() {
        func roundTrips(_ bytes: [UInt8]) -> Bool { String(decoding: bytes, as: UTF8.self).utf8.elementsEqual(bytes) }
        var cases: [[UInt8]] = [
            [], Array("content-type".utf8), Array("é漢字🎉".utf8), [0], [0x7F],
            [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xF0, 0x80, 0x80, 0x80],  // overlong
            [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],  // surrogates
            [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF],  // beyond U+10FFFF
            [0xC3], [0xE2, 0x82], [0xF0, 0x9F, 0x8E], [0x80], [0xC3, 0x28], [0x61, 0xE2, 0x82, 0x61],  // truncated, stray
            [0xEF, 0xBF, 0xBD], [0xF4, 0x8F, 0xBF, 0xBF],  // U+FFFD itself, U+10FFFF
        ]
        var random = SeededRandom(seed: 31)
        for _ in 0..<3000 {
            cases.append((0..<Int(random.uniform(below: 6))).map { _ in UInt8(truncatingIfNeeded: random.next() | 0x80) })
        }
        for bytes in cases {
            #expect(UTF8Validation.isValid(bytes) == roundTrips(bytes), "\(bytes)")
        }
    }

    /// Applying reads data records without copying them (`decodeForApply`); it must accept and
    /// reject exactly the bytes `decode` does, or replicas could disagree on a corrupt log.
    @Test func decodeForApplyAgreesWithDecode() {
        func applied(_ record: PartitionRecord) -> AppliedRecord {
            if case .data(let data) = record { return .data(producer: data.producer) }
            return .control(record)
        }
        for record in Self.samples {
            let bytes = record.encoded()
            #expect(bytes.withUnsafeBytes { try? PartitionRecord.decodeForApply(raw: $0) } == applied(record))
        }
        let badName: [UInt8] = [1, 1, 0, 0, 0, 1, 2, 0xC3, 0x28, 0]  // a header name that is not UTF-8
        #expect(throws: DecodeError.self) { try badName.withUnsafeBytes { try PartitionRecord.decodeForApply(raw: $0) } }
        #expect(throws: DecodeError.self) { try PartitionRecord.decode(badName) }
        for seed in TestSeed.seeds(count: 4, base: 23) {
            var random = SeededRandom(seed: seed)
            for _ in 0..<2000 {
                var bytes = Self.samples[Int(random.uniform(below: 3))].encoded()
                for _ in 0...random.uniform(below: 3) {
                    let at = Int(random.uniform(below: UInt64(bytes.count)))
                    switch random.uniform(below: 3) {
                    case 0: bytes[at] = UInt8(truncatingIfNeeded: random.next())
                    case 1: bytes.remove(at: at)
                    default: bytes.insert(UInt8(truncatingIfNeeded: random.next()), at: at)
                    }
                    if bytes.isEmpty { bytes = [1] }
                }
                let full = try? PartitionRecord.decode(bytes)
                let forApply = bytes.withUnsafeBytes { try? PartitionRecord.decodeForApply(raw: $0) }
                #expect(full.map(applied) == forApply, "MOM_SEED=\(seed) bytes \(bytes)")
            }
        }
    }

    @Test func fetchSkipsControlRecordsAndAdvancesPastThem() throws {
        let entries: [(offset: Offset, bytes: [UInt8])] = [
            (Offset(0), PartitionRecord.noop.encoded()),
            (Offset(1), PartitionRecord.samplesData.encoded()),
            (Offset(2), PartitionRecord.queueAck(QueueAck(entries: [])).encoded()),
            (Offset(3), PartitionRecord.samplesData.encoded()),
            (Offset(4), []),
        ]
        let all = try PartitionFetch.visibleRecords(entries, from: .zero, maxRecords: 10, maxBytes: 1 << 20)
        #expect(all.records.map(\.offset) == [Offset(1), Offset(3)])
        #expect(all.nextOffset == Offset(5))
        let one = try PartitionFetch.visibleRecords(entries, from: .zero, maxRecords: 1, maxBytes: 1 << 20)
        #expect(one.records.map(\.offset) == [Offset(1)])
        #expect(one.nextOffset == Offset(2))
        let tiny = try PartitionFetch.visibleRecords(entries, from: Offset(2), maxRecords: 10, maxBytes: 1)
        #expect(tiny.records.map(\.offset) == [Offset(3)])
    }
}

extension PartitionRecord {
    static let samplesData = PartitionRecord.data(DataRecord(timestampMilliseconds: 1, value: [1, 2]))
}
