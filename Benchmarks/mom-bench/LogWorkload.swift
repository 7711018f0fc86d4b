import Glibc
import MOMCore
import SegmentLog
import SystemIO

/// `mom-bench log`: the segment log against the disk's raw sequential bandwidth.
///
/// Phases, in a fresh directory: (1) the log with fdatasync per batch (with
/// `--report-durable`, each durable offset is printed as `durable <offset>`) interleaved, in
/// ten rounds, with raw bandwidth: plain pwrite + fdatasync of the same payload bytes in the same
/// batch size, so that drift in the disk's speed hits both alike; (2) the log without fdatasync
/// (page cache); (3) reading phase 1's log back. Record `i` holds `i` in its
/// first 8 bytes and a fixed pattern after, so any record can be checked from its offset alone.
struct LogWorkload {
    let options: BenchOptions
    let clock = SystemClock()

    /// The content of the record at `offset`: what the kill -9 test checks after recovery.
    static func fillPayload(_ target: UnsafeMutableRawBufferPointer, offset: UInt64, template: UnsafeRawBufferPointer) {
        target.copyMemory(from: UnsafeRawBufferPointer(rebasing: template[0..<target.count]))
        withUnsafeBytes(of: offset.littleEndian) { raw in
            for index in 0..<min(8, target.count) { target[index] = raw[index] }
        }
    }

    static func template(size: Int) -> [UInt8] { (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) } }

    func run() throws -> BenchReport {
        let root = try workDirectory()
        defer { if !options.keep { try? FileSystemCalls.removeTree(root) } }
        let payloadBytes = Double(options.messages) * Double(options.size)
        let (synced, raw) = try writeSyncedAgainstRaw(root: root)
        let unsynced = try writeLog(directory: root + "/log-nosync", syncEachBatch: false)
        if !options.keep { try? FileSystemCalls.removeTree(root + "/log-nosync") }
        let read = try readBack(directory: root + "/log-sync", expected: synced.messages)

        var report = BenchReport()
        let megabytes = Double(synced.messages * options.size) / 1e6
        report.set("workload", "log")
        report.set("messages", synced.messages)
        report.set("size", options.size)
        report.set("batch", options.batch)
        report.set("msgs_per_s", Double(synced.messages) / synced.seconds)
        report.set("mb_per_s", megabytes / synced.seconds)
        report.set("raw_mb_per_s", raw.megabytesPerSecond)
        report.set("ratio_to_raw", (megabytes / synced.seconds) / raw.megabytesPerSecond)
        report.setLatency(synced.histogram)
        report.set("nosync_msgs_per_s", Double(unsynced.messages) / unsynced.seconds)
        report.set("nosync_mb_per_s", Double(unsynced.messages * options.size) / 1e6 / unsynced.seconds)
        report.set("read_mb_per_s", read.megabytesPerSecond)
        report.set("read_msgs_per_s", Double(read.messages) / read.seconds)
        report.set("recovery_open_ms", read.openMilliseconds)
        report.set("planned_mb", payloadBytes / 1e6)
        report.set("directory", root)
        return report
    }

    func workDirectory() throws -> String {
        guard let directory = options.directory else {
            return try FileSystemCalls.makeTemporaryDirectory(prefix: "mom-bench-log-")
        }
        if !FileSystemCalls.exists(directory) { try FileSystemCalls.makeDirectory(directory) }
        return directory
    }

    var deadlineNanoseconds: UInt64 { clock.monotonicNanoseconds() + UInt64(options.durationSeconds * 1e9) }

    struct WriteResult {
        var messages: Int
        var seconds: Double
        var histogram: LatencyHistogram
    }

    /// Rounds of log batches then raw batches; each side's time is summed over the rounds.
    func writeSyncedAgainstRaw(root: String) throws -> (WriteResult, RawResult) {
        let log = try SegmentLog.open(directory: root + "/log-sync", fileSystem: PosixFileSystem(), configuration: .init(clock: clock))
        defer { log.close() }
        let rawPath = root + "/raw.bin"
        let raw = try FileDescriptor.open(rawPath, [.readWrite, .create, .truncate])
        defer {
            try? raw.close()
            try? FileSystemCalls.unlink(rawPath)
        }
        var total = WriteResult(messages: 0, seconds: 0, histogram: LatencyHistogram())
        var rawResult = RawResult(messages: 0, seconds: 0, bytes: 0)
        var progress = ProgressLine(label: "log (fdatasync per batch) vs raw", total: options.messages)
        let rounds = 10
        let deadline = deadlineNanoseconds
        for round in 0..<rounds {
            let target = options.messages * (round + 1) / rounds
            try appendToLog(log, count: target - total.messages, sync: true, deadline: deadline, into: &total, progress: &progress)
            try writeRaw(raw, count: target - rawResult.messages, deadline: deadline, into: &rawResult)
            if clock.monotonicNanoseconds() >= deadline { break }
        }
        progress.finish(done: total.messages)
        return (total, rawResult)
    }

    func writeLog(directory: String, syncEachBatch: Bool) throws -> WriteResult {
        let log = try SegmentLog.open(directory: directory, fileSystem: PosixFileSystem(), configuration: .init(clock: clock))
        defer { log.close() }
        var result = WriteResult(messages: 0, seconds: 0, histogram: LatencyHistogram())
        var progress = ProgressLine(label: syncEachBatch ? "log (fdatasync per batch)" : "log (no fdatasync)", total: options.messages)
        try appendToLog(log, count: options.messages, sync: syncEachBatch, deadline: deadlineNanoseconds, into: &result, progress: &progress)
        if !syncEachBatch { try log.flush() }  // Not timed: the phase measures page-cache appends.
        progress.finish(done: result.messages)
        return result
    }

    /// Appends `count` records in batches of `--batch`, optionally fdatasyncing each batch.
    func appendToLog(
        _ log: SegmentLog, count: Int, sync: Bool, deadline: UInt64, into result: inout WriteResult,
        progress: inout ProgressLine
    ) throws {
        let template = Self.template(size: options.size)
        let buffer = RecordBatchBuffer(capacityBytes: options.batch * (options.size + 10) + BatchHeader.size)
        var written = 0
        var next = log.logEndOffset.rawValue
        let start = clock.monotonicNanoseconds()
        try template.withUnsafeBytes { pattern in
            // Bounded by `count` and by the deadline.
            while written < count && clock.monotonicNanoseconds() < deadline {
                let batchCount = min(options.batch, count - written)
                buffer.removeAll()
                buffer.beginBatch(term: Term(1), timestampMilliseconds: clock.wallMilliseconds())
                for _ in 0..<batchCount {
                    buffer.appendRecord(byteCount: options.size) { Self.fillPayload($0, offset: next, template: pattern) }
                    next += 1
                }
                buffer.endBatch()
                let before = clock.monotonicNanoseconds()
                try log.append(buffer)
                if sync {
                    let durable = try log.flush()
                    if options.reportDurable { writeOutput("durable \(durable.rawValue)\n") }
                }
                result.histogram.record(nanoseconds: clock.monotonicNanoseconds() - before)
                written += batchCount
                progress.update(done: result.messages + written)
            }
        }
        result.seconds += Double(clock.monotonicNanoseconds() - start) / 1e9
        result.messages += written
    }

    struct RawResult {
        var messages: Int
        var seconds: Double
        var bytes: UInt64
        var megabytesPerSecond: Double { Double(bytes) / 1e6 / seconds }
    }

    /// The baseline: the same payload bytes per batch, pwrite + fdatasync, nothing else.
    func writeRaw(_ file: FileDescriptor, count: Int, deadline: UInt64, into result: inout RawResult) throws {
        let chunk = [UInt8](repeating: 0x5A, count: options.batch * options.size)
        var written = 0
        let start = clock.monotonicNanoseconds()
        try chunk.withUnsafeBytes { bytes in
            while written < count && clock.monotonicNanoseconds() < deadline {
                let batchCount = min(options.batch, count - written)
                let slice = UnsafeRawBufferPointer(rebasing: bytes[0..<(batchCount * options.size)])
                try file.write(toAbsoluteOffset: result.bytes, slice)
                try file.dataSync()
                result.bytes += UInt64(slice.count)
                written += batchCount
            }
        }
        result.seconds += Double(clock.monotonicNanoseconds() - start) / 1e9
        result.messages += written
    }

    struct ReadResult {
        var messages: Int
        var seconds: Double
        var megabytesPerSecond: Double
        var openMilliseconds: Double
    }

    struct ContentMismatch: Error, CustomStringConvertible {
        let offset: UInt64
        var description: String { "record \(offset) does not hold its expected payload" }
    }

    /// Reopens the log (timing recovery) and reads every record, checking each one's offset stamp.
    func readBack(directory: String, expected: Int) throws -> ReadResult {
        let openStart = clock.monotonicNanoseconds()
        let log = try SegmentLog.open(directory: directory, fileSystem: PosixFileSystem(), configuration: .init(clock: clock))
        defer { log.close() }
        let openMilliseconds = Double(clock.monotonicNanoseconds() - openStart) / 1e6
        var progress = ProgressLine(label: "read back", total: expected)
        var offset = log.logStartOffset
        var messages = 0
        var bytes = 0
        let deadline = deadlineNanoseconds
        let start = clock.monotonicNanoseconds()
        while offset < log.logEndOffset && clock.monotonicNanoseconds() < deadline {
            // 1 MiB per read, like Kafka's default max.partition.fetch.bytes.
            let records = try log.read(from: offset, maxBytes: 1 << 20, maxRecords: 1 << 20)
            for record in records {
                let stamp = record.value.withUnsafeBytes { $0.count >= 8 ? UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) : record.offset.rawValue }
                if stamp != record.offset.rawValue { throw ContentMismatch(offset: record.offset.rawValue) }
                bytes += record.value.count
            }
            messages += records.count
            offset = records.nextOffset
            progress.update(done: messages)
        }
        let seconds = Double(clock.monotonicNanoseconds() - start) / 1e9
        progress.finish(done: messages)
        return ReadResult(messages: messages, seconds: seconds, megabytesPerSecond: Double(bytes) / 1e6 / seconds, openMilliseconds: openMilliseconds)
    }
}
