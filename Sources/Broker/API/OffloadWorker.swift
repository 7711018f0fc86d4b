import SystemIO

/// One thread that runs jobs off the event and replication loops, with a bounded queue: a job
/// that does not fit is refused (`submit` returns false), and the caller decides: run it
/// itself, or refuse the request. Used for password checks (PBKDF2) and for encoding large
/// fetch answers.
final class OffloadWorker: @unchecked Sendable {
    private let lock = ConditionMutex()
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0
    private let queueMax: Int
    private var stopping = false
    private var thread: OSThread?
    private var completedCount = 0

    init(name: String, queueMax: Int) {
        precondition(queueMax > 0, "an offload queue needs room")
        self.queueMax = queueMax
        thread = OSThread.start(name: name) { [self] in run() }
    }

    /// Queues `job`; false when the queue is full or the worker stopped.
    func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        let accepted = lock.withLock { () -> Bool in
            guard jobs.count - head < queueMax, !stopping else { return false }
            jobs.append(job)
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
            while head == jobs.count && !stopping { lock.wait(untilMonotonicNanoseconds: clock.monotonicNanoseconds() + 1_000_000_000) }
            if head == jobs.count {
                lock.unlock()
                return
            }
            let job = jobs[head]
            head += 1
            if head == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                head = 0
            }
            lock.unlock()
            job()
            lock.withLock { completedCount += 1 }
        }
    }
}
