import Glibc
import Synchronization
import SystemIO

/// What every worker thread of a network workload shares: the claim counter that bounds the
/// total work, the completed counter the progress line reads, the deadline, and the merged
/// results. Workers keep their own histogram and merge it once at the end, so the hot loop
/// takes no lock.
final class WorkerShared: Sendable {
    /// Units of work handed out (requests for produce); a worker claims before it sends.
    let claimed = Atomic<Int>(0)
    /// Messages finished (acked or consumed).
    let completed = Atomic<Int>(0)
    let failures = Atomic<Int>(0)
    let finishedWorkers = Atomic<Int>(0)
    let startNanoseconds: UInt64
    let deadlineNanoseconds: UInt64
    private let lock = ConditionMutex()
    private nonisolated(unsafe) var merged = LatencyHistogram()
    private nonisolated(unsafe) var firstError: String?

    init(durationSeconds: Double) {
        startNanoseconds = SystemClock().monotonicNanoseconds()
        deadlineNanoseconds = startNanoseconds + UInt64(durationSeconds * 1e9)
    }

    var pastDeadline: Bool { SystemClock().monotonicNanoseconds() >= deadlineNanoseconds }

    func merge(_ histogram: LatencyHistogram) { lock.withLock { merged.merge(histogram) } }

    func fail(_ error: any Error) {
        failures.wrappingAdd(1, ordering: .relaxed)
        lock.withLock { if firstError == nil { firstError = "\(error)" } }
    }

    var histogram: LatencyHistogram { lock.withLock { merged } }
    var error: String? { lock.withLock { firstError } }
}

/// Runs `count` OS threads with `body(index)`, draws the progress line from the main thread
/// until they all finish, and joins them. Bounded: workers stop at the shared deadline.
func runWorkers(
    count: Int, shared: WorkerShared, progressLabel: String, total: Int,
    _ body: @escaping @Sendable (Int) -> Void
) -> Double {
    let clock = SystemClock()
    let start = clock.monotonicNanoseconds()
    var threads: [OSThread] = []
    for index in 0..<count {
        threads.append(OSThread.start(name: "bench-\(index)") {
            body(index)
            shared.finishedWorkers.wrappingAdd(1, ordering: .releasing)
        })
    }
    var progress = ProgressLine(label: progressLabel, total: total)
    // Bounded: workers stop at the deadline; the extra 60 s covers one last request timeout.
    let giveUp = shared.deadlineNanoseconds + 60_000_000_000
    while shared.finishedWorkers.load(ordering: .acquiring) < count && clock.monotonicNanoseconds() < giveUp {
        usleep(50_000)
        progress.update(done: shared.completed.load(ordering: .relaxed))
    }
    for thread in threads { thread.join() }
    let seconds = Double(clock.monotonicNanoseconds() - start) / 1e9
    progress.finish(done: shared.completed.load(ordering: .relaxed))
    return seconds
}

/// Sleeps until `monotonicNanoseconds` (open-loop pacing).
func sleep(untilMonotonicNanoseconds target: UInt64) {
    let now = SystemClock().monotonicNanoseconds()
    guard target > now else { return }
    var request = timespec(tv_sec: Int((target - now) / 1_000_000_000), tv_nsec: Int((target - now) % 1_000_000_000))
    var remaining = timespec()
    // Bounded: each EINTR resumes with the (shrinking) remainder.
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}

/// Printable record values: no quote, backslash or brace, so they travel as JSON text without
/// base64 or escaping, and a fetch response can be scanned without a full JSON parse.
enum PayloadAlphabet {
    static let characters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:;".utf8)

    static func value(size: Int, seed: Int) -> [UInt8] {
        (0..<size).map { characters[($0 &* 7 &+ seed) % characters.count] }
    }
}

/// A shared counter that escaping worker closures can capture (an `Atomic` alone cannot be).
final class SharedCounter: Sendable {
    let value = Atomic<Int>(0)
    func add(_ amount: Int = 1) { value.wrappingAdd(amount, ordering: .relaxed) }
    var current: Int { value.load(ordering: .relaxed) }
}
