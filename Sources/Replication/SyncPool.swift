import MOMCore
import SystemIO

/// Group commit across groups: one loop pass has written every ready group's entries, and
/// `syncAll` makes them all durable together. Each group's log is its own file (the Raft log
/// is the partition log; there is no shared write-ahead log), so there are two ways:
///
/// - with a `FileSystemSync` (momd's default, `--group-commit syncfs`), one syncfs(2) of the
///   data directory's file system covers every dirty log of the pass, and each log then just
///   records itself durable;
/// - without one, every log gets its own fdatasync, side by side on the workers below: the
///   kernel can merge concurrent fdatasyncs of one file system into one journal commit.
///

/// A small, fixed set of worker threads (`workerCount`, started on first use) takes logs from
/// the current pass; the loop thread takes its share too and returns only when every log of
/// the pass is synced or failed. Nothing is acked in between: the caller sends responses and
/// applies only after `syncAll` returns. With `workerCount == 0`, or one log, everything runs
/// on the caller's thread (a `SimulatedFileSystem` is single-threaded and needs that).
final class SyncPool: @unchecked Sendable {
    /// A log handed to a worker: the loop thread is blocked in `syncAll` meanwhile, so only
    /// one thread at a time touches it.
    private struct Job {
        let slot: Int
        let log: any GroupLog
    }

    private let workerCount: Int
    private let lock = ConditionMutex()
    private var workers: [OSThread] = []
    private var pending: [Job] = []
    private var results: [Error?] = []
    private var outstanding = 0
    private var stopping = false
    private let clock = SystemClock()
    private let fileSystemSync: (any FileSystemSync)?

    init(workerCount: Int, fileSystemSync: (any FileSystemSync)? = nil) {
        precondition(workerCount >= 0, "negative sync worker count")
        self.workerCount = workerCount
        self.fileSystemSync = fileSystemSync
    }

    /// Syncs every log, with one file-system sync or concurrently when workers exist; returns
    /// each log's error, in order.
    func syncAll(_ logs: [any GroupLog]) -> [Error?] {
        if logs.count > 1, let fileSystemSync {
            // A failed syncfs may have lost any log's writes: every log of the pass fails.
            do { try fileSystemSync.sync() } catch { return Array(repeating: error, count: logs.count) }
            return logs.map { log in Result { try log.markSyncedByFileSystemSync() }.failure }
        }
        guard logs.count > 1, workerCount > 0 else {
            return logs.map { log in Result { try log.sync() }.failure }
        }
        startWorkersIfNeeded()
        lock.withLock {
            precondition(outstanding == 0 && pending.isEmpty, "syncAll is not reentrant")
            results = Array(repeating: nil, count: logs.count)
            outstanding = logs.count
            // Popped from the end: reverse so the lowest group ids go first.
            pending = logs.enumerated().reversed().map { Job(slot: $0.offset, log: $0.element) }
        }
        lock.broadcast()
        // The loop thread works too, then waits for the jobs the workers took.
        while let job = lock.withLock({ pending.popLast() }) { run(job) }
        lock.lock()
        while outstanding > 0 { lock.wait(untilMonotonicNanoseconds: clock.monotonicNanoseconds() + 1_000_000_000) }
        let finished = results
        results = []
        lock.unlock()
        return finished
    }

    /// Stops and joins the workers; call once the loop thread no longer syncs.
    func stop() {
        lock.withLock { stopping = true }
        lock.broadcast()
        for worker in workers { worker.join() }
        workers = []
    }

    private func startWorkersIfNeeded() {
        guard workers.isEmpty else { return }
        for index in 0..<workerCount {
            workers.append(OSThread.start(name: "mom-sync-\(index)") { [self] in workLoop() })
        }
    }

    private func workLoop() {
        while true {
            lock.lock()
            while pending.isEmpty && !stopping {
                lock.wait(untilMonotonicNanoseconds: clock.monotonicNanoseconds() + 1_000_000_000)
            }
            if stopping && pending.isEmpty {
                lock.unlock()
                return
            }
            let job = pending.removeLast()
            lock.unlock()
            run(job)
        }
    }

    private func run(_ job: Job) {
        let error = Result { try job.log.sync() }.failure
        let done: Bool = lock.withLock {
            results[job.slot] = error
            outstanding -= 1
            return outstanding == 0
        }
        // The loop thread and idle workers share one condition: wake them all.
        if done { lock.broadcast() }
    }
}

extension Result {
    /// The error, if this is a failure.
    fileprivate var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
