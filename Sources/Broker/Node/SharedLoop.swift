import HTTPServer
import MOMCore
import Replication
import Synchronization
import SystemIO
import Transport

/// Where the replication loop waits when the node-to-node transport runs on its thread
/// (`--transport-thread shared`), and, once `serve` hands it one (`--http-thread shared`),
/// the HTTP server's event loop as well.
///
/// The loop thread waits in the transport's epoll set, in which the HTTP loop's own epoll set is
/// one more descriptor: a client's request, a peer's append and a posted proposal all wake the
/// one thread that handles them. An HTTP turn runs inside `poll`, after the transport's, when
/// the HTTP set is readable, when it has work left from its last turn (or responses this thread
/// gave it), or when its timeout sweep is due. What the HTTP handlers post to the replication
/// inbox is drained right after `poll` returns, in the same pass.
final class SharedLoop: LoopWaiter, @unchecked Sendable {
    private let transport: TransportDriver
    private let clock: any Clock
    /// Handed over by `serve` on another thread, adopted by the loop thread.
    private let pending = Mutex<HTTPServerDriver?>(nil)
    private let hasPending = Atomic<Bool>(false)
    // Loop thread only.
    private var http: HTTPServerDriver?
    private var httpReadable = false

    init(transport: TransportDriver, clock: any Clock) {
        self.transport = transport
        self.clock = clock
    }

    /// Any thread, once: serve `driver`'s HTTP loop on this loop's thread from its next turn.
    func serve(_ driver: HTTPServerDriver) throws(Errno) {
        pending.withLock { $0 = driver }
        hasPending.store(true, ordering: .releasing)
        // Registered after the hand-over: a readable report then always finds the driver
        // adopted by the turn that follows it.
        try transport.watch(driver.descriptor) { [unowned self] in httpReadable = true }
        transport.wake()
    }

    func poll(waitMillisecondsMax: UInt64) {
        if hasPending.load(ordering: .acquiring) { adoptPending() }
        guard let http else { return transport.poll(waitMillisecondsMax: waitMillisecondsMax) }
        // Answers this thread just gave the HTTP loop (a commit's acks) go out before the
        // transport's turn: that turn writes the commit's notices to the followers and reads
        // whatever arrived meanwhile, which a waiting producer need not wait for.
        if http.hasImmediateWork { http.turn() }
        transport.poll(waitMillisecondsMax: httpDue(http) ? 0 : min(waitMillisecondsMax, milliseconds(until: http.nextDeadlineNanoseconds)))
        if httpDue(http) {
            httpReadable = false
            http.turn()
        }
    }

    func wake() { transport.wake() }

    func flush() { transport.flush() }

    func loopEnded() {
        if hasPending.load(ordering: .acquiring) { adoptPending() }
        transport.unwatch()
        // HTTPServer.shutdown runs the HTTP loop's last turns from here on.
        http?.detach()
        http = nil
    }

    private func adoptPending() {
        hasPending.store(false, ordering: .relaxed)
        if let driver = pending.withLock({ $0.take() }) { http = driver }
    }

    private func httpDue(_ http: HTTPServerDriver) -> Bool {
        httpReadable || http.hasImmediateWork || clock.monotonicNanoseconds() >= http.nextDeadlineNanoseconds
    }

    private func milliseconds(until deadline: UInt64) -> UInt64 {
        let now = clock.monotonicNanoseconds()
        return deadline > now ? (deadline - now + 999_999) / 1_000_000 : 0
    }
}
