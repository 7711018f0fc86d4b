import Dispatch

/// The executor of the coordinator's maintenance task: one serial dispatch queue of its own.
///
/// Why not the default executor: Swift's cooperative pool has one thread per core (two here),
/// and CPU-bound work on it (a simulation campaign in the same test process, a busy broker)
/// starved the maintenance task, so re-arming watches and restoring the registration after a
/// reconnect waited for seconds. On its own queue the task only needs libzookeeper's completion
/// thread to resume it. Its jobs are short (copy a reply, queue the next request), so one queue
/// is plenty.
final class MaintenanceExecutor: TaskExecutor, @unchecked Sendable {
    // @unchecked: the only stored property is a DispatchQueue, which is thread-safe.
    private let queue: DispatchQueue

    init(label: String) {
        self.queue = DispatchQueue(label: label)
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { [self] in job.runSynchronously(on: asUnownedTaskExecutor()) }
    }
}
