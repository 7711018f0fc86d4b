import MOMCore
import SystemIO
@testable import SegmentLog

/// One seeded crash scenario: random appends, flushes, truncations, rolls, retention and clock
/// moves on the simulated file system, crashes at random points (between operations or in the
/// middle of one), reopen, and a check of the recovered log against a model.
///
/// The model is every record ever appended at each offset (term and bytes), the durable end
/// (what a flush, roll or truncation promised), and bounds on the log start.
struct CrashSimulation {
    struct ModelRecord: Equatable {
        var term: Term
        var bytes: [UInt8]
    }

    let seed: UInt64
    /// `SegmentLog.Configuration.prefillBytesMax` of this seed.
    let prefillBytesMax: UInt64
    /// Test-only fault: recovery skips checksums, so the checker must catch torn batches.
    var brokenRecovery = false
    var random: SeededRandom
    let fileSystem: SimulatedFileSystem
    let clock = ManualClock()
    let limits: Limits
    var records: [ModelRecord] = []
    var durableEnd = Offset.zero
    var startLowerBound = Offset.zero
    var startUpperBound = Offset.zero
    var term = Term(1)
    let buffer = RecordBatchBuffer(capacityBytes: 1024)

    init(seed: UInt64, brokenRecovery: Bool = false) {
        self.seed = seed
        self.brokenRecovery = brokenRecovery
        // No prefill, refills every few batches, or the whole segment at its first append.
        prefillBytesMax = [0, 64, 256, 4 << 20][Int(seed % 4)]
        random = SeededRandom(seed: seed ^ 0xC0FF_EE00_D15C_0000)
        fileSystem = SimulatedFileSystem(seed: seed)
        var limits = Limits()
        limits.segmentBytesMax = UInt64(random.uniform(in: 512...4096))
        limits.indexIntervalBytes = UInt64(random.uniform(in: 32...512))
        limits.batchRecordsMax = 64
        limits.batchBytesMax = 8192
        limits.segmentAgeMillisecondsMax = UInt64(random.uniform(in: 1_000...100_000))
        self.limits = limits
    }

    /// A disagreement between the log and the model.
    struct CheckFailure: Error {
        let message: String
    }

    /// Runs `cycles` crash-and-recover rounds; returns the first problem, or nil.
    mutating func run(cycles: Int = 3) -> String? {
        do {
            var log = try open()
            for cycle in 0..<cycles {
                let crashInside = random.chance(1, in: 2)
                if crashInside { fileSystem.scheduleCrash(afterOperations: random.uniform(in: 0...120)) }
                if random.chance(1, in: 4) { fileSystem.faultRatePerMillion = UInt64(random.uniform(in: 1_000...20_000)) }
                let operations = random.uniform(in: 1...40)
                for _ in 0..<operations {
                    if try !step(log) { break }
                }
                log.close()
                fileSystem.faultRatePerMillion = 0
                fileSystem.crash()
                log = try open()
                do { try check(log) } catch { return "cycle \(cycle): \(error.message)" }
            }
            return nil
        } catch let failure as CheckFailure {
            return failure.message
        } catch {
            return "unexpected error \(error)"
        }
    }

    func open() throws(SegmentLogError) -> SegmentLog {
        let configuration = SegmentLog.Configuration(limits: limits, clock: clock, prefillBytesMax: prefillBytesMax)
        let log = SegmentLog(directory: "/log", fileSystem: fileSystem, configuration: configuration, verifyChecksums: !brokenRecovery)
        try log.recover()
        return log
    }

    /// One random operation. Returns false once the operation failed (the crash came, or a
    /// fault failed the log): the "process" stops and the next cycle restarts it.
    mutating func step(_ log: SegmentLog) throws -> Bool {
        let choice = random.uniform(below: 100)
        var truncationTarget: Offset?
        var resetTarget: Offset?
        do {
            switch choice {
            case 0..<45: try appendRandomBatches(log)
            case 45..<65:
                let durable = try log.flush()
                if durable != log.logEndOffset { throw CheckFailure(message: "flush returned \(durable), end \(log.logEndOffset)") }
            case 65..<73:
                guard log.logEndOffset > log.logStartOffset else { return true }
                let target = Offset(UInt64(random.uniform(
                    in: Int(log.logStartOffset.rawValue)...Int(log.logEndOffset.rawValue))))
                truncationTarget = target
                try log.truncate(from: target)
                records.removeSubrange(Int(target.rawValue)...)
                term = term.next
            case 73..<77: try log.roll()
            case 77..<79:
                let target = Offset(UInt64(random.uniform(in: Int(log.logStartOffset.rawValue)...Int(log.logEndOffset.rawValue) + 20)))
                resetTarget = target
                // Interrupted, it may leave any suffix of the old segments.
                startUpperBound = max(target, log.segments[log.segments.count - 1].baseOffset)
                if Int(target.rawValue) > records.count {
                    records.append(contentsOf: repeatElement(ModelRecord(term: .zero, bytes: []), count: Int(target.rawValue) - records.count))
                }
                try log.reset(startingAt: target)
                records.removeSubrange(Int(target.rawValue)...)
                startLowerBound = target
                startUpperBound = target
            case 79..<86:
                startUpperBound = log.segments[log.segments.count - 1].baseOffset
                if random.chance(1, in: 3) {
                    try log.deletePrefix(before: Offset(UInt64(random.uniform(in: 0...Int(log.logEndOffset.rawValue)))))
                } else {
                    try log.applyRetention(
                        bytesMax: random.chance(1, in: 2) ? UInt64(random.uniform(in: 0...8000)) : nil,
                        ageMillisecondsMax: UInt64(random.uniform(in: 0...50_000)))
                }
                startLowerBound = log.logStartOffset
                startUpperBound = log.logStartOffset
            case 86..<91: clock.advance(byMilliseconds: UInt64(random.uniform(in: 1...20_000)))
            default: try checkRandomRead(log)
            }
        } catch let error as SegmentLogError {
            if case .offsetOutOfRange = error { throw CheckFailure(message: "unexpected \(error)") }
            // The process "dies" here. An interrupted truncation may or may not take effect,
            // so only what lies below its target stays promised.
            if let truncationTarget { durableEnd = min(durableEnd, truncationTarget) }
            // An interrupted reset may leave the old log, the new one, or an empty directory
            // that reopens at the configured initial offset (0 here).
            if let resetTarget {
                durableEnd = .zero
                startLowerBound = .zero
                startUpperBound = max(startUpperBound, resetTarget)
            }
            return false
        }
        durableEnd = log.durableEndOffset
        return true
    }

    /// The recovered log against the model: verify() (checksums, contiguity, index), every
    /// flushed record present, nothing invented, every record equal to what was appended.
    mutating func check(_ log: SegmentLog) throws(CheckFailure) {
        do { try log.verify() } catch { throw CheckFailure(message: "verify: \(error)") }
        let start = log.logStartOffset
        let end = log.logEndOffset
        if start < startLowerBound || start > startUpperBound {
            throw CheckFailure(message: "log start \(start) outside [\(startLowerBound), \(startUpperBound)]")
        }
        if end < durableEnd { throw CheckFailure(message: "lost flushed records: end \(end) < durable \(durableEnd)") }
        if end.rawValue > UInt64(records.count) { throw CheckFailure(message: "end \(end) beyond anything appended (\(records.count))") }
        var expected = start
        var readCount = 0
        while expected < end {
            let chunk: LogRecords
            do { chunk = try log.read(from: expected, maxBytes: 3000, maxRecords: 50) } catch {
                throw CheckFailure(message: "read at \(expected): \(error)")
            }
            for record in chunk {
                guard record.offset == expected else { throw CheckFailure(message: "offset \(record.offset), expected \(expected)") }
                let model = records[Int(expected.rawValue)]
                guard record.term == model.term, Array(record.value) == model.bytes else {
                    throw CheckFailure(message: "record \(expected) differs from what was appended")
                }
                expected = expected.next
            }
            readCount += 1
            if chunk.isEmpty || readCount > 100_000 { throw CheckFailure(message: "read at \(expected) made no progress") }
        }
        records.removeSubrange(Int(end.rawValue)...)
        durableEnd = end
        startLowerBound = start
        startUpperBound = start
        term = term.next
    }

    mutating func appendRandomBatches(_ log: SegmentLog) throws(SegmentLogError) {
        if random.chance(1, in: 10) { term = term.next }
        buffer.removeAll()
        var appended: [ModelRecord] = []
        for _ in 0..<random.uniform(in: 1...4) {
            buffer.beginBatch(term: term, attributes: UInt16(random.uniform(below: 4)), timestampMilliseconds: clock.wallMilliseconds())
            for _ in 0..<random.uniform(in: 1...6) {
                let bytes = (0..<random.uniform(in: 0...60)).map { _ in UInt8(random.uniform(in: 1...255)) }
                buffer.appendRecord(bytes)
                appended.append(ModelRecord(term: term, bytes: bytes))
            }
            buffer.endBatch()
        }
        precondition(Int(log.logEndOffset.rawValue) == records.count, "model and log disagree before append")
        // Record the attempt first: an interrupted append may still be partly on disk.
        records.append(contentsOf: appended)
        let range = try log.append(buffer)
        precondition(range.lowerBound.rawValue + UInt64(appended.count) == range.upperBound.rawValue, "append range")
    }

    mutating func checkRandomRead(_ log: SegmentLog) throws {
        guard log.logEndOffset > log.logStartOffset else { return }
        let offset = Offset(UInt64(random.uniform(in: Int(log.logStartOffset.rawValue)...Int(log.logEndOffset.rawValue) - 1)))
        let read = try log.read(from: offset, maxBytes: random.uniform(in: 1...2000), maxRecords: random.uniform(in: 1...20))
        for record in read {
            let model = records[Int(record.offset.rawValue)]
            if record.term != model.term || Array(record.value) != model.bytes {
                throw CheckFailure(message: "live read of \(record.offset) disagrees with the model")
            }
        }
        if try log.term(at: offset) != records[Int(offset.rawValue)].term {
            throw CheckFailure(message: "term(at: \(offset)) disagrees with the model")
        }
    }
}
