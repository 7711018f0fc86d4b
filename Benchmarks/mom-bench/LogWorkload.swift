import Glibc
import MOMCore
import SegmentLog
import SystemIO

/// `mom-bench log`: the segment log against the disk's raw sequential bandwidth.
///
/// Phases, in a fresh directory: (1) the log with fdatasync per batch (with
/// `--report-durable`, each durable offset is printed as `durable <offset>`), (2) raw bandwidth:
/// plain pwrite + fdatasync of the same payload bytes in the same batch size, (3) the log
/// without fdatasync (page cache), (4) reading phase 1's log back. Record `i` holds `i` in its
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
        let synced = try writeLog(directory: root + "/log-sync", syncEachBatch: true)
        let raw = try writeRaw(path: root + "/raw.bin")
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

    func writeLog(directory: String, syncEachBatch: Bool) throws -> WriteResult {
        let log = try SegmentLog.open(directory: directory, fileSystem: PosixFileSystem(), configuration: .init(clock: clock))
        defer { log.close() }
        let template = Self.template(size: options.size)
        let buffer = RecordBatchBuffer(capacityBytes: options.batch * (options.size + 10) + BatchHeader.size)
        var histogram = LatencyHistogram()
        var progress = ProgressLine(label: syncEachBatch ? "log (fdatasync per batch)" : "log (no fdatasync)", total: options.messages)
        var written = 0
        var next = log.logEndOffset.rawValue
        let deadline = deadlineNanoseconds
        let start = clock.monotonicNanoseconds()
        try template.withUnsafeBytes { pattern in
            // Bounded by --messages and by --duration.
            while written < options.messages && clock.monotonicNanoseconds() < deadline {
                let count = min(options.batch, options.messages - written)
                buffer.removeAll()
                buffer.beginBatch(term: Term(1), timestampMilliseconds: clock.wallMilliseconds())
                for _ in 0..<count {
                    buffer.appendRecord(byteCount: options.size) { Self.fillPayload($0, offset: next, template: pattern) }
                    next += 1
                }
                buffer.endBatch()
                let before = clock.monotonicNanoseconds()
                try log.append(buffer)
                if syncEachBatch {
                    let durable = try log.flush()
                    if options.reportDurable { writeOutput("durable \(durable.rawValue)\n") }
                }
                histogram.record(nanoseconds: clock.monotonicNanoseconds() - before)
                written += count
                progress.update(done: written)
            }
        }
        let seconds = Double(clock.monotonicNanoseconds() - start) / 1e9
        if !syncEachBatch { try log.flush() }  // Not timed: the phase measures page-cache appends.
        progress.finish(done: written)
        return WriteResult(messages: written, seconds: seconds, histogram: histogram)
    }

    struct RawResult {
        var megabytesPerSecond: Double
    }

    /// The baseline: the same payload bytes per batch, pwrite + fdatasync, nothing else.
    func writeRaw(path: String) throws -> RawResult {
        let file = try FileDescriptor.open(path, [.readWrite, .create, .truncate])
        defer {
            try? file.close()
            try? FileSystemCalls.unlink(path)
        }
        let batchBytes = options.batch * options.size
        let chunk = [UInt8](repeating: 0x5A, count: batchBytes)
        var progress = ProgressLine(label: "raw pwrite+fdatasync", total: options.messages)
        var written = 0
        var position: UInt64 = 0
        let deadline = deadlineNanoseconds
        let start = clock.monotonicNanoseconds()
        try chunk.withUnsafeBytes { bytes in
            while written < options.messages && clock.monotonicNanoseconds() < deadline {
                let count = min(options.batch, options.messages - written)
                let slice = UnsafeRawBufferPointer(rebasing: bytes[0..<(count * options.size)])
                try file.write(toAbsoluteOffset: position, slice)
                try file.dataSync()
                position += UInt64(slice.count)
                written += count
                progress.update(done: written)
            }
        }
        let seconds = Double(clock.monotonicNanoseconds() - start) / 1e9
        progress.finish(done: written)
        return RawResult(megabytesPerSecond: Double(position) / 1e6 / seconds)
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
            let records = try log.read(from: offset, maxBytes: 4 << 20, maxRecords: 1 << 20)
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
