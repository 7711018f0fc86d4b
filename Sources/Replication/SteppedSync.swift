import MOMCore
import SystemIO

/// Asynchronous storage writes with the syncs run on the loop thread, for a single-threaded
/// `SimulatedFileSystem` (tests and simulation). A requested sync runs at the first loop pass
/// after a random delay of up to `delayNanosecondsMax` (seeded), so writes stay unsynced while
/// acks, held responses and a leader's own count go on around them, and a simulated power cut
/// (stop, then `SimulatedFileSystem.crash`) can land in between.
final class SteppedSync: SyncEngine {
    static let delayNanosecondsMax: UInt64 = 4_000_000

    private let fileSystemSync: any FileSystemSync
    private let clock: any Clock
    private var random: SeededRandom
    private var requested: UInt64 = 0
    private var completed: UInt64 = 0
    /// When the pending syncs run; set by the first request after the last sync.
    private var due: UInt64 = 0
    private var finished: [FinishedSync] = []

    init(fileSystemSync: any FileSystemSync, seed: UInt64, clock: any Clock = SystemClock()) {
        self.fileSystemSync = fileSystemSync
        self.clock = clock
        self.random = SeededRandom(seed: seed)
    }

    /// Only once the delay passed: until then the loop may sleep (its tick wakes it).
    var needsPass: Bool { completed < requested && clock.monotonicNanoseconds() >= due }

    func request(file: (any FileSyncHandle)?) -> UInt64 {
        file?.close()
        if completed == requested { due = clock.monotonicNanoseconds() + random.uniform(below: Self.delayNanosecondsMax + 1) }
        requested += 1
        return requested
    }

    func takeFinished() -> [FinishedSync] {
        if needsPass { syncNow() }
        defer { finished.removeAll() }
        return finished
    }

    func waitForAll() { if completed < requested { syncNow() } }

    /// Pending syncs are dropped: a stopped node's unsynced writes are what a power cut takes.
    func stop() {}

    private func syncNow() {
        var failure: Errno?
        do { try fileSystemSync.sync() } catch { failure = error }
        finished.append(FinishedSync(throughTicket: requested, error: failure))
        completed = requested
    }
}
