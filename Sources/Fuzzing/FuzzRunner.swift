import MOMCore
import Simulation

/// The outcome of a fuzz run.
public struct FuzzReport: Sendable {
    /// A failing input: its replay seed and what it broke.
    public struct Failure: Sendable, CustomStringConvertible {
        /// `MOM_SEED=<inputSeed>` replays exactly this input.
        public var inputSeed: UInt64
        /// The finding.
        public var message: String

        public var description: String { "input seed \(inputSeed): \(message)" }
    }

    /// The target run.
    public var target: FuzzTargetKind
    /// The run's seed (input seeds derive from it).
    public var seed: UInt64
    /// Inputs run.
    public var iterations: UInt64 = 0
    /// Wall time, seconds.
    public var seconds: Double = 0
    /// The slowest input, milliseconds.
    public var slowestInputMilliseconds: Double = 0
    /// Failing inputs (the first `FuzzRunner.failuresMax`).
    public var failures: [Failure] = []

    /// Inputs per second.
    public var iterationsPerSecond: Double { seconds > 0 ? Double(iterations) / seconds : 0 }
}

/// Runs a fuzz target for a number of inputs or a time budget, whichever ends first.
///
/// Input `i` of a run with seed `S` is drawn from `inputSeed(run: S, iteration: i)`, so every
/// finding carries a seed that replays that one input (`replay(_:inputSeed:)`), and a whole
/// run is deterministic in its inputs (only how many fit in the time budget varies).
public enum FuzzRunner {
    /// Findings kept per run; later ones are counted by the caller's exit status only.
    public static let failuresMax = 20
    /// An input that takes longer than this is a finding (quadratic parsing, runaway loops).
    public static let inputMillisecondsMax: Double = 2_000
    /// Crash-reporter slot used by fuzz runs (the simulation uses the low slots).
    public static let crashReporterSlot = CrashReporter.slotCount - 1

    /// The seed of input `iteration` of the run seeded `run` (SplitMix64 of both).
    public static func inputSeed(run: UInt64, iteration: UInt64) -> UInt64 {
        var random = SeededRandom(seed: run &+ iteration &* 0xD1B5_4A32_D192_ED03)
        return random.next()
    }

    /// Runs the single input `inputSeed` of `kind`; nil when it passes.
    public static func replay(_ kind: FuzzTargetKind, inputSeed: UInt64) -> FuzzFinding? {
        let target = kind.makeTarget()
        var random = SeededRandom(seed: inputSeed)
        CrashReporter.install()
        CrashReporter.running(inputSeed, slot: crashReporterSlot)
        defer { CrashReporter.running(UInt64.max, slot: crashReporterSlot) }
        do throws(FuzzFinding) {
            try target.run(random: &random)
            return nil
        } catch {
            return error
        }
    }

    /// Runs up to `iterationsMax` inputs of `kind` within `secondsMax` seconds of `clock`.
    /// `inputClock` times each input against `inputMillisecondsMax`: pass a CPU-time clock where
    /// the machine is shared, so a preempted input is not reported as slow (a 2 s wall-clock
    /// stall of a 0.2 ms input was the one false finding of the first campaign).
    /// `checkEvery` runs every 1,024 inputs (e.g. a resident-memory bound) and may add a finding.
    public static func run(
        _ kind: FuzzTargetKind, seed: UInt64, iterationsMax: UInt64, secondsMax: Double, clock: any Clock,
        inputClock: (any Clock)? = nil, checkEvery: () -> String? = { nil }
    ) -> FuzzReport {
        let inputClock = inputClock ?? clock
        var report = FuzzReport(target: kind, seed: seed)
        let target = kind.makeTarget()
        let start = clock.monotonicNanoseconds()
        let deadline = start + UInt64(secondsMax * 1e9)
        CrashReporter.install()
        defer { CrashReporter.running(UInt64.max, slot: crashReporterSlot) }
        while report.iterations < iterationsMax {
            let inputSeed = FuzzRunner.inputSeed(run: seed, iteration: report.iterations)
            CrashReporter.running(inputSeed, slot: crashReporterSlot)
            var random = SeededRandom(seed: inputSeed)
            let before = inputClock.monotonicNanoseconds()
            var finding: FuzzFinding?
            do throws(FuzzFinding) { try target.run(random: &random) } catch { finding = error }
            let milliseconds = Double(inputClock.monotonicNanoseconds() - before) / 1e6
            let now = clock.monotonicNanoseconds()
            report.slowestInputMilliseconds = max(report.slowestInputMilliseconds, milliseconds)
            if finding == nil && milliseconds > inputMillisecondsMax {
                finding = FuzzFinding("input took \(Int(milliseconds)) ms (bound \(Int(inputMillisecondsMax)) ms)")
            }
            report.iterations += 1
            if report.iterations % 1_024 == 0, let problem = checkEvery() { finding = finding ?? FuzzFinding(problem) }
            if let finding, report.failures.count < failuresMax {
                report.failures.append(.init(inputSeed: inputSeed, message: finding.message))
            }
            if now >= deadline { break }
        }
        report.seconds = Double(clock.monotonicNanoseconds() - start) / 1e9
        return report
    }
}
