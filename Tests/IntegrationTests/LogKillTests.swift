import Foundation
import Glibc
import MOMCore
import SegmentLog
import SystemIO
import Testing

/// kill -9 against a real process: `mom-bench log --report-durable` prints every offset it has
/// fdatasync'd; the test kills it with SIGKILL mid-run, reopens the log, and checks that every
/// reported record is there with the payload its offset determines.
@Suite("SegmentLog under kill -9")
struct LogKillTests {
    /// The already-built `mom-bench` next to this test bundle (`.build/<config>/`).
    static func benchPath() -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        var candidates: [String] = []
        if length > 0 {
            let executable = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            var directory = (executable as NSString).deletingLastPathComponent
            // The test binary may sit inside a bundle directory (…/X.xctest/…).
            for _ in 0..<4 {
                candidates.append(directory + "/mom-bench")
                directory = (directory as NSString).deletingLastPathComponent
            }
        }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
        candidates.append(packageRoot + "/.build/debug/mom-bench")
        candidates.append(packageRoot + "/.build/release/mom-bench")
        return candidates.first { access($0, X_OK) == 0 }
    }

    @Test func noFlushedRecordIsLostWhenTheWriterIsKilled() throws {
        let bench = try #require(Self.benchPath(), "mom-bench is not built; run `swift build` (or scripts/test) first")
        let directory = try FileSystemCalls.makeTemporaryDirectory(prefix: "mom-kill-")
        defer { try? FileSystemCalls.removeTree(directory) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: bench)
        process.arguments = [
            "log", "--dir", directory, "--keep", "--report-durable",
            "--messages", "50000000", "--size", "200", "--batch", "32", "--duration", "60",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try process.run()
        let reader = output.fileHandleForReading.fileDescriptor
        var text = ""
        // Wait (at most 30 s) for a few dozen flushes, then kill mid-run.
        let deadline = Date().addingTimeInterval(30)
        while text.components(separatedBy: "durable ").count < 40 && Date() < deadline && process.isRunning {
            text += readAvailable(reader, timeoutMilliseconds: 200)
        }
        #expect(process.isRunning, "mom-bench exited before it could be killed")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
        while true {
            let more = readAvailable(reader, timeoutMilliseconds: 1000)
            if more.isEmpty { break }
            text += more
        }
        let durable = text.split(separator: "\n").compactMap { line -> UInt64? in
            line.hasPrefix("durable ") ? UInt64(line.dropFirst("durable ".count)) : nil
        }
        let reported = try #require(durable.max(), "mom-bench reported no durable offset")
        let recoveredEnd = try checkLog(directory + "/log-sync", reportedDurable: reported)
        print("kill -9 after \(durable.count) durable reports (last \(reported)); recovered log end \(recoveredEnd)")
    }

    func checkLog(_ directory: String, reportedDurable: UInt64) throws -> UInt64 {
        let log = try SegmentLog.open(directory: directory, fileSystem: PosixFileSystem(), configuration: .init(clock: SystemClock()))
        defer { log.close() }
        #expect(log.logStartOffset == .zero)
        #expect(log.logEndOffset.rawValue >= reportedDurable, "records up to \(reportedDurable) were reported durable")
        try log.verify()
        let template = (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var offset = Offset.zero
        var mismatches = 0
        while offset < log.logEndOffset {
            let records = try log.read(from: offset, maxBytes: 4 << 20, maxRecords: 100_000)
            for record in records {
                #expect(record.offset == offset)
                var expected = template
                withUnsafeBytes(of: record.offset.rawValue.littleEndian) { for index in 0..<8 { expected[index] = $0[index] } }
                if Array(record.value) != expected { mismatches += 1 }
                offset = offset.next
            }
        }
        #expect(mismatches == 0, "\(mismatches) records hold the wrong payload")
        return log.logEndOffset.rawValue
    }

    /// Whatever the pipe has within the timeout ("" at end of file or on timeout).
    func readAvailable(_ descriptor: Int32, timeoutMilliseconds: Int32) -> String {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, timeoutMilliseconds) > 0 else { return "" }
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = read(descriptor, &buffer, buffer.count)
        return count > 0 ? String(decoding: buffer[0..<count], as: UTF8.self) : ""
    }
}
