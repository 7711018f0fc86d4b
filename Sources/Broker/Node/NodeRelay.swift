import HTTPServer
import MOMCore
import SystemIO

/// What the relay needs from the node link (the TCP transport in production, a fake in tests).
protocol RelayLink: AnyObject, Sendable {
    /// Queues `payload` on `channel` for `peer` without blocking; false when it was not queued.
    func send(_ payload: [UInt8], on channel: GroupID, to peer: NodeID) -> Bool
    /// An id of the connection to `peer` that is up now, or nil when none is. It changes each
    /// time the connection is replaced, so a call sent on one connection can tell it was lost.
    func connectionGeneration(of peer: NodeID) -> UInt64?
}

/// Forwarded writes ride the node link: a produce share that a follower sends to the
/// partition's leader travels in the same TCP connection as Raft's appends, and its answer
/// comes back the same way.
///
/// Why: forwarding over HTTP cost the forwarding node as much CPU as the leader spent on the
/// write itself (docs/performance.md §15): a pool thread woke to write the request and again to
/// read the answer, the leader parsed a second HTTP request on its HTTP loop. Here the request
/// is framed by the transport thread that is awake for Raft anyway, many requests share a
/// frame, and the leader runs it on that thread through the same router as an HTTP request
/// (same token check, same hop bound, same errors).
///
/// Only small-answer writes go this way (`carries`): produce and send shares, acks, commits.
/// Reads and long-polls stay on HTTP, so a large answer never queues behind or ahead of
/// Raft's appends. A request the relay can't take (no connection up, too many pending, queue
/// full) falls back to HTTP: the relay is a faster road, never the only one.
///
/// A call is failed with 503 (outcome unknown; a client retries, with its producer id and
/// sequence when it needs exactly-once) when its connection is replaced or closed before the
/// answer comes, or after `timeoutNanoseconds`, the HTTP forwarding pool's timeout.
public final class NodeRelay: @unchecked Sendable {
    struct Statistics: Equatable {
        /// Calls sent over the link.
        var relayed: UInt64 = 0
        /// Requests `call` declined (the caller forwarded over HTTP instead).
        var declined: UInt64 = 0
        /// Calls answered by the peer.
        var answered: UInt64 = 0
        /// Calls failed because their connection went away before the answer.
        var linkLost: UInt64 = 0
        /// Calls failed because no answer came in time.
        var timedOut: UInt64 = 0
        /// Requests from peers served here.
        var served: UInt64 = 0
        /// Requests from peers refused here (too many being served, or not serving yet).
        var refused: UInt64 = 0
    }

    private struct Pending {
        let responder: HTTPResponder
        let peer: NodeID
        let generation: UInt64
        let deadline: UInt64
    }

    static let bodyBytesMax = 1 << 20
    static let sweepIntervalNanoseconds: UInt64 = 200_000_000

    let limits: Limits
    let timeoutNanoseconds: UInt64
    let pendingMax: Int
    let servingMax: Int
    private let clock: any Clock

    // Guarded by `lock`.
    private let lock = ConditionMutex()
    private var link: (any RelayLink)?
    private var handler: HTTPHandler?
    private var pending: [UInt64: Pending] = [:]
    private var nextCallID: UInt64 = 1
    private var serving = 0
    private var stopped = false
    private var counters = Statistics()
    private var sweeper: OSThread?

    init(limits: Limits, clock: any Clock, timeoutMilliseconds: UInt64 = 35_000, pendingMax: Int = 4096, servingMax: Int = 4096) {
        precondition(pendingMax > 0 && servingMax > 0 && timeoutMilliseconds > 0, "relay bounds must be positive")
        self.limits = limits
        self.clock = clock
        self.timeoutNanoseconds = timeoutMilliseconds * 1_000_000
        self.pendingMax = pendingMax
        self.servingMax = servingMax
    }

    /// Whether a request is one the relay carries: a write whose answer is small. The route's
    /// last segment says so; receives (long-polls with large answers) and reads are not.
    static func carries(_ request: HTTPRequest) -> Bool {
        guard request.method == .post, request.body.count <= bodyBytesMax else { return false }
        guard let slash = request.path.lastIndex(of: "/") else { return false }
        switch request.path[request.path.index(after: slash)...] {
        case "records", "messages", "ack", "commit": return true
        default: return false
        }
    }

    /// Sends through `link` from now on (set once the transport runs).
    func attach(_ link: any RelayLink) {
        lock.withLock { self.link = link }
    }

    /// Serves peers' requests with `handler` (the node's router) from now on. Until then they
    /// are answered 503.
    func serve(_ handler: @escaping HTTPHandler) {
        lock.withLock { self.handler = handler }
    }

    /// Starts the thread that fails calls whose connection was lost or whose time ran out.
    func startSweeping() {
        let thread = OSThread.start(name: "mom-relay") { [self] in
            while lock.withLock({ !stopped }) {
                sweep()
                lock.withLock {
                    if !stopped { lock.wait(untilMonotonicNanoseconds: clock.monotonicNanoseconds() + Self.sweepIntervalNanoseconds) }
                }
            }
        }
        lock.withLock { sweeper = thread }
    }

    /// Fails every pending call and stops serving; peers' requests get 503 from now on.
    func stop() {
        let (failed, thread) = lock.withLock { () -> ([Pending], OSThread?) in
            stopped = true
            lock.broadcast()
            let failed = Array(pending.values)
            pending.removeAll()
            defer { sweeper = nil }
            return (failed, sweeper)
        }
        thread?.join()
        for call in failed {
            call.responder.send(error: HTTPError.serviceUnavailable(
                "this node stopped while node \(call.peer.rawValue) was serving the request; its outcome is unknown, retry", code: "forward_failed"))
        }
    }

    func statistics() -> Statistics { lock.withLock { counters } }

    /// Sends `request` to `peer` over the link; `responder` gets the peer's answer. Returns
    /// false, touching nothing, when the relay does not take it: the caller forwards over HTTP.
    func call(_ request: HTTPRequest, to peer: NodeID, responder: HTTPResponder) -> Bool {
        guard Self.carries(request), let link = lock.withLock({ stopped ? nil : self.link }),
              let generation = link.connectionGeneration(of: peer) else {
            lock.withLock { counters.declined += 1 }
            return false
        }
        let deadline = clock.monotonicNanoseconds() + timeoutNanoseconds
        let callID: UInt64? = lock.withLock {
            guard !stopped, pending.count < pendingMax else { return nil }
            let id = nextCallID
            nextCallID += 1
            pending[id] = Pending(responder: responder, peer: peer, generation: generation, deadline: deadline)
            return id
        }
        guard let callID else {
            lock.withLock { counters.declined += 1 }
            return false
        }
        let sent = link.send(RelayCodec.encode(request: request, callID: callID), on: RelayChannel.request, to: peer)
        return lock.withLock {
            if sent {
                counters.relayed += 1
                return true
            }
            // Not queued: nobody else can have seen the id, unless `stop` took it meanwhile —
            // then the stop already answered.
            guard pending.removeValue(forKey: callID) != nil else { return true }
            counters.declined += 1
            return false
        }
    }

    /// A payload the transport received on one of the relay channels (transport thread).
    /// Malformed payloads are dropped: the caller's call then times out.
    func receive(from peer: NodeID, channel: GroupID, payload: [UInt8]) {
        if channel == RelayChannel.request {
            guard let (callID, request) = try? RelayCodec.decodeRequest(payload, limits: limits) else { return }
            serveRequest(request, callID: callID, from: peer)
        } else if channel == RelayChannel.response {
            guard let (callID, response) = try? RelayCodec.decodeResponse(payload, limits: limits) else { return }
            let call: Pending? = lock.withLock {
                guard let call = pending[callID], call.peer == peer else { return nil }
                pending[callID] = nil
                counters.answered += 1
                return call
            }
            var answer = response
            answer.headers.remove(name: "Connection")
            answer.headers.remove(name: "Content-Length")
            call?.responder.send(answer)
        }
    }

    private func serveRequest(_ request: HTTPRequest, callID: UInt64, from peer: NodeID) {
        let accepted: (HTTPHandler, any RelayLink)? = lock.withLock {
            guard !stopped, let handler, let link else { return nil }
            guard serving < servingMax else {
                counters.refused += 1
                return nil
            }
            serving += 1
            counters.served += 1
            return (handler, link)
        }
        guard let (handler, link) = accepted else {
            let refusal = HTTPResponse(error: HTTPError.serviceUnavailable(
                "node is not serving forwarded requests right now (starting, stopping or overloaded); retry", code: "overloaded"))
            _ = lock.withLock { self.link }?.send(RelayCodec.encode(response: refusal, callID: callID), on: RelayChannel.response, to: peer)
            return
        }
        let responder = HTTPResponder { [self] response in
            lock.withLock { serving -= 1 }
            // A lost answer leaves the caller to its timeout or its link-lost check.
            _ = link.send(RelayCodec.encode(response: response, callID: callID), on: RelayChannel.response, to: peer)
        }
        handler(request, responder)
    }

    /// Fails the calls whose connection is gone or replaced, and those past their deadline.
    func sweep() {
        let (peers, link) = lock.withLock { (Set(pending.values.map(\.peer)), self.link) }
        guard let link, !peers.isEmpty else { return }
        var generations: [NodeID: UInt64] = [:]
        for peer in peers { generations[peer] = link.connectionGeneration(of: peer) }
        let now = clock.monotonicNanoseconds()
        let failed: [(Pending, HTTPError)] = lock.withLock {
            var failed: [(Pending, HTTPError)] = []
            for (id, call) in pending {
                // A peer added since the snapshot above is checked on the next sweep.
                guard peers.contains(call.peer) else { continue }
                if generations[call.peer] != call.generation {
                    counters.linkLost += 1
                    failed.append((call, .serviceUnavailable(
                        "the link to node \(call.peer.rawValue) broke while it served the request; its outcome is unknown, retry", code: "forward_failed")))
                } else if now >= call.deadline {
                    counters.timedOut += 1
                    failed.append((call, .serviceUnavailable(
                        "node \(call.peer.rawValue) did not answer in time; the request's outcome is unknown, retry", code: "forward_failed")))
                } else {
                    continue
                }
                pending[id] = nil
            }
            return failed
        }
        for (call, error) in failed { call.responder.send(error: error) }
    }
}
