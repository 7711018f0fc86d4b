import Fuzzing
import Glibc
import MOMCore
import SystemIO

/// `mom-bench fuzz --target http|json|frame|raft|segment [--seconds N] [--seed S] [--iterations N]`:
/// a seeded, in-process mutation fuzzing run of one decoder (see docs/fuzzing.md). Prints the
/// inputs per second and every failing input with the seed that replays it; exit status 1 when
/// any input failed. `MOM_SEED=<input seed> mom-bench fuzz --target T` replays one input.
enum FuzzWorkload {
    static let usageText = """
        usage: mom-bench fuzz --target http|json|frame|raft|segment [--seconds N] [--seed S] [--iterations N]
               MOM_SEED=<input seed> mom-bench fuzz --target T   replays one failing input
        """
    /// Resident memory above this is a finding: every decoder must bound what it allocates.
    static let residentBytesMax: UInt64 = 1 << 30

    static func main(_ arguments: [String]) -> Int32 {
        let flags: [String: String]
        do {
            flags = try SubcommandFlags.parse(arguments, allowed: ["--target", "--seconds", "--seed", "--iterations"])
        } catch {
            return usage(error.message)
        }
        guard let name = flags["--target"], let target = FuzzTargetKind(rawValue: name) else { return usage("--target is required") }
        guard let seconds = Double(flags["--seconds"] ?? "60"), seconds > 0,
              let seed = UInt64(flags["--seed"] ?? "1"),
              let iterations = UInt64(flags["--iterations"] ?? String(UInt64.max))
        else { return usage("--seconds, --seed and --iterations need numbers") }
        if let text = getenv("MOM_SEED").map({ String(cString: $0) }) {
            guard let inputSeed = UInt64(text) else { return usage("MOM_SEED must be an unsigned integer") }
            guard let finding = FuzzRunner.replay(target, inputSeed: inputSeed) else {
                print("fuzz \(target.rawValue): input seed \(inputSeed) passes")
                return 0
            }
            print("fuzz \(target.rawValue): input seed \(inputSeed) FAILED: \(finding)")
            return 1
        }
        let report = FuzzRunner.run(target, seed: seed, iterationsMax: iterations, secondsMax: seconds, clock: SystemClock(),
                                    inputClock: ThreadCPUClock()) {
            guard let resident = residentBytes(), resident > residentBytesMax else { return nil }
            return "resident memory \(resident >> 20) MiB exceeds \(residentBytesMax >> 20) MiB"
        }
        print("fuzz \(target.rawValue): seed \(seed), \(report.iterations) inputs in \(formatted(report.seconds)) s "
            + "(\(Int(report.iterationsPerSecond)) inputs/s), slowest input \(formatted(report.slowestInputMilliseconds)) ms CPU, "
            + "resident \((residentBytes() ?? 0) >> 20) MiB, \(report.failures.count) failed")
        for failure in report.failures {
            print("  FAILED \(failure)\n    replay: MOM_SEED=\(failure.inputSeed) mom-bench fuzz --target \(target.rawValue)")
        }
        return report.failures.isEmpty ? 0 : 1
    }

    static func usage(_ problem: String) -> Int32 {
        print("mom-bench: \(problem)\n\(usageText)")
        return 2
    }

    static func formatted(_ value: Double) -> String { String(Double(Int(value * 10)) / 10) }

    /// Resident set size from /proc/self/statm (second field, in pages); nil when unreadable.
    static func residentBytes() -> UInt64? {
        guard let file = fopen("/proc/self/statm", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 256)
        guard fgets(&line, Int32(line.count), file) != nil else { return nil }
        let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        let fields = text.split(separator: " ")
        guard fields.count >= 2, let pages = UInt64(fields[1]) else { return nil }
        return pages * UInt64(sysconf(Int32(_SC_PAGESIZE)))
    }
}

/// This thread's CPU time as a clock: times one fuzz input without counting the time the
/// thread spent preempted on a shared machine.
struct ThreadCPUClock: Clock {
    func monotonicNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    func wallMilliseconds() -> Int64 { SystemClock().wallMilliseconds() }
}
