import SystemIO

/// One thread that runs jobs off the event and replication loops, with a bounded queue: a job
/// that does not fit is refused (`submit` returns false), and the caller decides: run it
/// itself, or refuse the request. Used for password checks (PBKDF2) and for encoding large
/// fetch answers.
final class OffloadWorker: @unchecked Sendable {
    private let lock = ConditionMutex()
    private var jobs: JobQueue
    private let queueMax: Int
    private var stopping = false
    private var thread: OSThread?
    private var completedCount = 0

    init(name: String, queueMax: Int) {
        precondition(queueMax > 0, "an offload queue needs room")
        self.queueMax = queueMax
        self.jobs = JobQueue(compactAfter: queueMax)
        thread = OSThread.start(name: name) { [self] in run() }
    }

    /// Queues `job`; false when the queue is full or the worker stopped.
    func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        let accepted = lock.withLock { () -> Bool in
            guard jobs.count < queueMax, !stopping else { return false }
            jobs.push(job)
            return true
        }
        if accepted { lock.signal() }
        return accepted
    }

    /// Jobs run to their end so far (tests and metrics).
    var completed: Int { lock.withLock { completedCount } }

    /// Runs the jobs already queued, then ends the thread; later submissions are refused.
    func stop() {
        lock.withLock { stopping = true }
        lock.broadcast()
        thread?.join()
        thread = nil
    }

    private func run() {
        let clock = SystemClock()
        while true {
            lock.lock()
            while jobs.count == 0 && !stopping { lock.wait(untilMonotonicNanoseconds: clock.monotonicNanoseconds() + 1_000_000_000) }
            guard let job = jobs.pop() else {
                lock.unlock()
                return
            }
            lock.unlock()
            job()
            lock.withLock { completedCount += 1 }
        }
    }
}

/// A FIFO of jobs in an array with a moving head. A taken job's slot is cleared at once (a job
/// may hold a large page), and the taken slots are cut off once there are `compactAfter` of
/// them, so the storage stays below `compactAfter` plus the jobs waiting even when the queue
/// never runs empty.
struct JobQueue {
    typealias Job = @Sendable () -> Void
    private(set) var storage: [Job?] = []
    private var head = 0
    let compactAfter: Int

    init(compactAfter: Int) { self.compactAfter = compactAfter }

    var count: Int { storage.count - head }

    mutating func push(_ job: @escaping Job) { storage.append(job) }

    mutating func pop() -> Job? {
        guard head < storage.count else { return nil }
        let job = storage[head]
        storage[head] = nil
        head += 1
        if head == storage.count {
            storage.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= compactAfter {
            storage.removeFirst(head)
            head = 0
        }
        return job
    }
}
