import Glibc
import MOMCore
import SystemIO

/// Runs an `HTTPServer`'s one event loop on another loop's thread (the replication loop's),
/// instead of on a thread of its own.
///
/// Why: with its own thread, every produce crossed two hand-offs at the front of the node: the
/// HTTP thread posted the proposal and woke the replication loop, and the loop's answer woke
/// the HTTP thread to write it. On this VM a hand-off to a sleeping thread on the other vCPU
/// costs about 20 µs of latency plus an interrupt the waker pays for (docs/performance.md §17).
/// Driven, the handler runs on the thread that proposes, and the commit's answer is written by
/// the thread that saw the commit. The price is that handlers share that thread with Raft: they
/// must not block (they already must not: HTTPServer's contract).
///
/// The driving thread registers `descriptor` (the loop's epoll set; readable while any of its
/// sockets has an event) in its own epoll set, and calls `turn` when it reports readable, when
/// `hasImmediateWork`, or at `nextDeadlineNanoseconds`. When the driving thread stops driving
/// (its loop ends) it calls `detach`; `HTTPServer.shutdown` then runs the remaining turns on
/// its own thread, so in-flight requests are still answered.
public final class HTTPServerDriver: @unchecked Sendable {
    private let loop: HTTPEventLoop
    /// Held for the length of a turn: a turn and a shutdown never run the loop at once.
    private let lock = ConditionMutex()
    // Guarded by `lock`.
    private var finished = false
    private var detached = false
    private var driving: pthread_t?

    init(loop: HTTPEventLoop) { self.loop = loop }

    /// The loop's epoll set, for the driving thread's epoll (level-triggered readable).
    public var descriptor: FileDescriptor { loop.epoll.descriptor }

    /// Driving thread: whether a turn has work now without any event (see HTTPEventLoop).
    public var hasImmediateWork: Bool { loop.hasImmediateWork }

    /// Driving thread: when the loop's next timeout sweep is due (monotonic nanoseconds).
    public var nextDeadlineNanoseconds: UInt64 { loop.nextDeadlineNanoseconds }

    /// Driving thread: one turn that waits for nothing. The first call makes the caller the
    /// driving thread; once shutdown has finished, it closes every connection and later calls
    /// do nothing.
    public func turn() {
        lock.lock()
        defer { lock.unlock() }
        guard !finished, !detached else { return }
        if driving == nil {
            driving = pthread_self()
            loop.setDrivingThread(driving)
        }
        precondition(pthread_equal(driving!, pthread_self()) != 0, "an HTTP loop is driven by one thread")
        if !loop.turn(waitMillisecondsMax: 0) { finish() }
    }

    /// Driving thread: stops driving for good (its own loop is ending). Responses sent later
    /// signal the loop's eventfd, and `HTTPServer.shutdown` runs the remaining turns.
    public func detach() {
        lock.withLock {
            detached = true
            driving = nil
            loop.setDrivingThread(nil)
        }
        lock.broadcast()
    }

    /// Shutting-down thread: after `requestShutdown`, waits for the driving thread to finish the
    /// loop; if it detaches (or never drove it) runs the turns itself. Returns once every
    /// connection is closed, or after `waitMillisecondsMax` if the driving thread neither
    /// finishes nor detaches (it is stuck; nothing here can then close its sockets safely).
    func finishShutdown(clock: any Clock, waitMillisecondsMax: UInt64) {
        let deadline = clock.monotonicNanoseconds() + waitMillisecondsMax * 1_000_000
        lock.lock()
        defer { lock.unlock() }
        while !finished {
            if detached || driving == nil {
                // No thread drives the loop: turn it here, waiting in its own epoll (and keep a
                // late first `turn` from starting to drive it).
                detached = true
                if !loop.turn(waitMillisecondsMax: 50) { finish() }
                continue
            }
            guard clock.monotonicNanoseconds() < deadline else { return }
            lock.wait(untilMonotonicNanoseconds: min(deadline, clock.monotonicNanoseconds() + 50_000_000))
        }
    }

    /// With `lock` held.
    private func finish() {
        loop.closeEverything()
        finished = true
        lock.broadcast()
    }
}
