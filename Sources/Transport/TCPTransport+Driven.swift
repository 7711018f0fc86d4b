import Glibc
import MOMCore
import SystemIO

/// Runs a `TCPTransport` on another loop's thread (the replication loop's), instead of on a
/// thread of its own.
///
/// With its own thread, every envelope crossed two hand-offs on each node: the transport thread
/// read it and woke the replication loop, and the loop's answer woke the transport thread to
/// write it. On this VM a hand-off to a sleeping thread on the other vCPU costs about 20 µs of
/// latency and an interrupt the waker pays for (docs/performance.md §17). Driven, the loop
/// waits in the transport's `epoll_wait` instead of on its own condition variable: a peer's
/// message wakes the thread that steps it, and what the loop sends is written at the start of
/// its next turn, by itself.
///
/// The driving thread calls `poll` in its loop; any thread calls `wake` to end a `poll` early
/// (work was posted to the loop). `TCPTransport.stop` waits for the turn in progress, then
/// closes the sockets on its own thread; later `poll`s only wait for `wake` or their deadline.
public final class TransportDriver: @unchecked Sendable {
    private let loop: TransportEventLoop
    private let shared: TransportSharedState
    /// Held for the length of a turn, so `close` never runs while the loop does.
    private let turn = ConditionMutex()
    private var closed = false
    private var woken = false

    init(loop: TransportEventLoop, shared: TransportSharedState) {
        self.loop = loop
        self.shared = shared
    }

    /// Driving thread: one transport turn, waiting at most `waitMillisecondsMax` for socket
    /// events or a `wake` (0: only what is ready now). Received envelopes go to the transport's
    /// receive handler, on this thread, before it returns.
    public func poll(waitMillisecondsMax: UInt64) {
        turn.lock()
        defer { turn.unlock() }
        // Once stopped, a turn touches no socket: `close` (on the stopping thread) owns them.
        if closed || !shared.lock.withLock({ shared.running }) {
            if !woken && waitMillisecondsMax > 0 {
                turn.wait(untilMonotonicNanoseconds: SystemClock().monotonicNanoseconds() + waitMillisecondsMax * 1_000_000)
            }
            woken = false
            return
        }
        shared.lock.withLock {
            if shared.drivingThread == nil { shared.drivingThread = pthread_self() }
            precondition(shared.isDrivingThread, "a transport is driven by one thread")
        }
        loop.runOnce(waitMillisecondsMax: waitMillisecondsMax)
    }

    /// Driving thread: writes what is queued for established peers, as the start of a turn
    /// does, without waiting for or reading anything.
    public func flush() {
        turn.lock()
        defer { turn.unlock() }
        guard !closed, shared.lock.withLock({ shared.running && shared.isDrivingThread }) else { return }
        loop.flushEstablished()
    }

    /// Driving thread: also waits for `descriptor` (level-triggered readable; another loop's
    /// epoll set, the HTTP server's) and calls `onReadable` on this thread, inside `poll`, when
    /// it is. One watched descriptor at a time; the descriptor stays its owner's to close, after
    /// `unwatch` or once the transport has stopped.
    public func watch(_ descriptor: FileDescriptor, onReadable: @escaping () -> Void) throws(Errno) {
        turn.lock()
        defer { turn.unlock() }
        precondition(loop.watched == nil, "a transport watches one descriptor")
        guard !closed else { return }
        try loop.epoll.add(descriptor, events: .readable, token: TransportEventLoop.watchedToken)
        loop.watched = (descriptor, onReadable)
    }

    /// Driving thread: stops watching the descriptor `watch` registered.
    public func unwatch() {
        turn.withLock {
            guard !closed, let watched = loop.watched else { return }
            loop.epoll.remove(watched.descriptor)
            loop.watched = nil
        }
    }

    /// Any thread: ends the driving thread's `poll` (or keeps its next one from waiting).
    public func wake() {
        let signalled = shared.lock.withLock { () -> Bool in
            // The driving thread drains its own inbox before it polls again: no need to wake
            // it (and it may hold `turn` right now, inside a turn's receive handler).
            if shared.isDrivingThread { return true }
            guard let notifier = shared.notifier else { return false }
            notifier.signal()
            return true
        }
        guard !signalled else { return }
        turn.withLock { woken = true }
        turn.signal()
    }

    /// After `TCPTransport.stop` marked the transport stopped: closes every socket once the
    /// turn in progress, if any, is over.
    func close() {
        precondition(!shared.lock.withLock { shared.isDrivingThread }, "a driven transport is stopped from another thread than its driver")
        turn.withLock {
            guard !closed else { return }
            closed = true
            loop.shutdown()
        }
        // The driving thread may end and its id be reused by a thread that must signal.
        shared.lock.withLock { shared.drivingThread = nil }
    }
}
