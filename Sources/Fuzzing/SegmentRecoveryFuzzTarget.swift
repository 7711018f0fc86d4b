import MOMCore
import SegmentLog
import SystemIO

/// SegmentLog recovery over damaged files: a log is written and flushed on the simulated file
/// system, then its segment and index files are mutated (bit rot, torn tails, splices, zeroed
/// ranges, random bytes, whole-file replacement), and the log is opened again.
///
/// Oracles: `open` recovers or throws a `SegmentLogError`; the recovered log starts at offset 0
/// and is a prefix of what was written; every record a read returns is exactly the record
/// written at its offset (a batch whose CRC fails is never surfaced: reads throw instead); a
/// log whose only damage is a torn tail of its last segment keeps every earlier segment; and
/// recovery is idempotent (opening the recovered log again changes nothing).
struct SegmentRecoveryFuzzTarget: FuzzTarget {
    static let directory = "/log"
    static let limits: Limits = {
        var limits = Limits()
        limits.segmentBytesMax = 2_048
        limits.indexIntervalBytes = 256
        limits.batchBytesMax = 64 << 10
        limits.batchRecordsMax = 1_024
        return limits
    }()
    let mutator = ByteMutator(lengthMax: 8 << 10)

    func run(random: inout SeededRandom) throws(FuzzFinding) {
        let fileSystem = SimulatedFileSystem(seed: random.next())
        let written = try writeLog(fileSystem, random: &random)
        let names = (try? fileSystem.listDirectory(SegmentRecoveryFuzzTarget.directory))?.sorted() ?? []
        let logNames = names.filter { $0.hasSuffix(".log") }
        var tornTailOnly = random.chance(1, in: 4) && !logNames.isEmpty
        if tornTailOnly {
            let path = "\(SegmentRecoveryFuzzTarget.directory)/\(logNames.last!)"
            let bytes = fileSystem.contents(of: path) ?? []
            replace(path, with: Array(bytes.prefix(Int(random.uniform(below: UInt64(bytes.count) + 1)))), in: fileSystem)
        } else {
            tornTailOnly = false
            for _ in 0...random.uniform(below: 3) {
                guard !names.isEmpty else { break }
                let path = "\(SegmentRecoveryFuzzTarget.directory)/\(names[Int(random.uniform(below: UInt64(names.count)))])"
                let bytes = fileSystem.contents(of: path) ?? []
                let damaged = random.chance(1, in: 10) ? mutator.randomBytes(random: &random)
                    : mutator.mutate(bytes, other: nil, random: &random)
                replace(path, with: damaged, in: fileSystem)
            }
        }
        let earlierSegmentsRecords = try recordsBeforeLastSegment(logNames)
        guard let recovered = try reopen(fileSystem, written: written) else { return }
        if tornTailOnly && recovered < earlierSegmentsRecords {
            throw FuzzFinding("a torn tail of the last segment lost earlier segments: \(recovered) records recovered, \(earlierSegmentsRecords) before it")
        }
        guard let again = try reopen(fileSystem, written: written), again == recovered else {
            throw FuzzFinding("recovery is not idempotent: \(recovered) records, then a second open disagreed")
        }
    }

    /// Writes 1 to 40 batches of 1 to 5 records (random sizes, some large enough to roll
    /// segments) and flushes; returns each offset's value.
    private func writeLog(_ fileSystem: SimulatedFileSystem, random: inout SeededRandom) throws(FuzzFinding) -> [[UInt8]] {
        let log: SegmentLog
        do {
            log = try SegmentLog.open(directory: SegmentRecoveryFuzzTarget.directory, fileSystem: fileSystem,
                                      configuration: .init(limits: SegmentRecoveryFuzzTarget.limits, clock: ManualClock()))
        } catch { throw FuzzFinding("cannot create the log: \(error)") }
        defer { log.close() }
        var values: [[UInt8]] = []
        let buffer = RecordBatchBuffer(capacityBytes: 4_096)
        for _ in 0...random.uniform(below: 40) {
            buffer.removeAll()
            buffer.beginBatch(term: Term(1), timestampMilliseconds: 1_700_000_000_000)
            for _ in 0...random.uniform(below: 5) {
                let value = SegmentRecoveryFuzzTarget.value(offset: UInt64(values.count), size: random.length(max: 300))
                buffer.appendRecord(value)
                values.append(value)
            }
            buffer.endBatch()
            do { _ = try log.append(buffer) } catch { throw FuzzFinding("append failed on a healthy log: \(error)") }
        }
        do { _ = try log.flush() } catch { throw FuzzFinding("flush failed on a healthy log: \(error)") }
        return values
    }

    /// Opens the log and reads everything; returns how many records it holds (nil when open
    /// refused with a typed error), or a finding when a record differs from what was written.
    private func reopen(_ fileSystem: SimulatedFileSystem, written: [[UInt8]]) throws(FuzzFinding) -> UInt64? {
        let log: SegmentLog
        do {
            log = try SegmentLog.open(directory: SegmentRecoveryFuzzTarget.directory, fileSystem: fileSystem,
                                      configuration: .init(limits: SegmentRecoveryFuzzTarget.limits, clock: ManualClock()))
        } catch {
            return nil
        }
        defer { log.close() }
        guard log.logStartOffset == .zero, log.logEndOffset.rawValue <= UInt64(written.count) else {
            throw FuzzFinding("recovered [\(log.logStartOffset), \(log.logEndOffset)) is not a prefix of the \(written.count) records written")
        }
        var offset = log.logStartOffset
        // Bounded: each read returns at least one record or ends the loop.
        for _ in 0...written.count {
            guard offset < log.logEndOffset else { break }
            let records: LogRecords
            do { records = try log.read(from: offset, maxBytes: 1_000, maxRecords: 50) } catch { break }
            guard !records.isEmpty else { throw FuzzFinding("read at \(offset) returned nothing before the log end \(log.logEndOffset)") }
            for record in records {
                guard record.offset == offset, Int(record.offset.rawValue) < written.count,
                      Array(record.value) == written[Int(record.offset.rawValue)]
                else { throw FuzzFinding("read surfaced a record at \(record.offset) that was not written there") }
                offset = offset.next
            }
        }
        return log.logEndOffset.rawValue
    }

    /// Records in every segment but the last, from the 20-digit base offsets in the file names.
    private func recordsBeforeLastSegment(_ logNames: [String]) throws(FuzzFinding) -> UInt64 {
        guard let last = logNames.last else { return 0 }
        guard let base = UInt64(last.prefix(20)) else { throw FuzzFinding("segment file name \(last) has no base offset") }
        return base
    }

    private func replace(_ path: String, with bytes: [UInt8], in fileSystem: SimulatedFileSystem) {
        do {
            let file = try fileSystem.openFile(path)
            try file.truncate(toSize: 0)
            try file.write(toAbsoluteOffset: 0, bytes)
            try file.dataSync()
            try file.close()
        } catch {
            preconditionFailure("the simulated file system refused a write without faults: \(error)")
        }
    }

    /// A value recognisable by its offset (in its first 8 bytes) and size.
    static func value(offset: UInt64, size: Int) -> [UInt8] {
        (0..<size).map { index in
            index < 8 ? UInt8(truncatingIfNeeded: offset >> (8 * UInt64(index))) : UInt8(truncatingIfNeeded: offset &* 31 &+ UInt64(index))
        }
    }
}
