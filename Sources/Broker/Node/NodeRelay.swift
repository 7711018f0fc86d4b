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
/// is framed by the transport's thread, awake for Raft anyway (the replication loop's, by
/// default), many requests share a frame, and the leader runs it on that thread through the
/// same router as an HTTP request (same token check, same hop bound, same errors).
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
        /// Registration order: a sweep judges only calls registered before it looked at the
        /// connections, so a call sent on a connection that came up meanwhile is not failed.
        let sequence: UInt64
        let bytes: Int
        /// False for probes, which the counters leave out.
        let counted: Bool
    }

    /// Bodies above this go over HTTP: a relayed request is served on the transport's thread
    /// (the replication loop's, by default), and a large one would hold up every peer's Raft
    /// traffic while it is parsed.
    static let bodyBytesMax = 256 << 10
    static let sweepIntervalNanoseconds: UInt64 = 200_000_000
    /// The request a relay sends first on every new connection; only a peer that answers it
    /// (one that has a relay) is sent calls on that connection. An older node drops relay
    /// envelopes, so without this every forwarded write to it would wait out the timeout.
    static let probePath = "/v1/internal/relay/probe"

    let limits: Limits
    let timeoutNanoseconds: UInt64
    let pendingMax: Int
    /// Request bytes of pending calls, at most: relay traffic shares the peer's send queue with
    /// Raft's appends and must never fill it.
    let pendingBytesMax: Int
    let servingMax: Int
    private let clock: any Clock

    // Guarded by `lock`.
    private let lock = ConditionMutex()
    private var link: (any RelayLink)?
    private var handler: HTTPHandler?
    private var pending: [UInt64: Pending] = [:]
    private var pendingBytes = 0
    private var nextCallID: UInt64
    private var registrations: UInt64 = 0
    /// The connection generation each peer answered a probe on, and the one being probed.
    private var capable: [NodeID: UInt64] = [:]
    private var probing: [NodeID: UInt64] = [:]
    private var serving = 0
    private var stopped = false
    private var counters = Statistics()
    private var sweeper: OSThread?

    /// `firstCallID` should be random in production: call ids are matched per peer, and a
    /// restarted node must not take an answer meant for its previous life's call of that id.
    init(limits: Limits, clock: any Clock, timeoutMilliseconds: UInt64 = 35_000, pendingMax: Int = 4096,
         pendingBytesMax: Int = 32 << 20, servingMax: Int = 4096, firstCallID: UInt64 = 1) {
        precondition(pendingMax > 0 && pendingBytesMax > 0 && servingMax > 0 && timeoutMilliseconds > 0, "relay bounds must be positive")
        self.limits = limits
        self.clock = clock
        self.timeoutNanoseconds = timeoutMilliseconds * 1_000_000
        self.pendingMax = pendingMax
        self.pendingBytesMax = pendingBytesMax
        self.servingMax = servingMax
        self.nextCallID = firstCallID
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
            pendingBytes = 0
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
        let isCapable = lock.withLock { capable[peer] == generation }
        guard isCapable else {
            probe(peer, generation: generation, link: link)
            lock.withLock { counters.declined += 1 }
            return false
        }
        guard send(request, to: peer, generation: generation, link: link, responder: responder) else {
            lock.withLock { counters.declined += 1 }
            return false
        }
        lock.withLock { counters.relayed += 1 }
        return true
    }

    /// Whether calls to `peer` go over the link now (it answered a probe on this connection).
    func isCapable(of peer: NodeID) -> Bool {
        guard let generation = lock.withLock({ self.link })?.connectionGeneration(of: peer) else { return false }
        return lock.withLock { capable[peer] == generation }
    }

    /// Asks `peer`, once per connection, whether it serves relayed requests.
    func probe(_ peer: NodeID) {
        guard let link = lock.withLock({ stopped ? nil : self.link }), let generation = link.connectionGeneration(of: peer) else { return }
        probe(peer, generation: generation, link: link)
    }

    private func probe(_ peer: NodeID, generation: UInt64, link: any RelayLink) {
        let first = lock.withLock { () -> Bool in
            guard probing[peer] != generation, capable[peer] != generation else { return false }
            probing[peer] = generation
            return true
        }
        guard first else { return }
        let answer = HTTPResponder { [self] response in
            lock.withLock {
                if probing[peer] == generation { probing[peer] = nil }
                if response.status.code / 100 == 2 { capable[peer] = generation }
            }
        }
        if !send(HTTPRequest(method: .get, target: Self.probePath), to: peer, generation: generation, link: link, responder: answer, counted: false) {
            lock.withLock { if probing[peer] == generation { probing[peer] = nil } }
        }
    }

    /// Registers a call and queues its request; false (nothing registered) when it can't.
    private func send(
        _ request: HTTPRequest, to peer: NodeID, generation: UInt64, link: any RelayLink, responder: HTTPResponder, counted: Bool = true
    ) -> Bool {
        // What the call holds of the send queue: the body, and a bound on the rest.
        let bytes = request.body.count + request.target.utf8.count + 1024
        let deadline = clock.monotonicNanoseconds() + timeoutNanoseconds
        let callID: UInt64? = lock.withLock {
            guard !stopped, pending.count < pendingMax, pendingBytes + bytes <= pendingBytesMax else { return nil }
            let id = nextCallID
            nextCallID &+= 1
            registrations += 1
            pending[id] = Pending(responder: responder, peer: peer, generation: generation, deadline: deadline,
                                  sequence: registrations, bytes: bytes, counted: counted)
            pendingBytes += bytes
            return id
        }
        guard let callID else { return false }
        if link.send(RelayCodec.encode(request: request, callID: callID), on: RelayChannel.request, to: peer) { return true }
        return lock.withLock {
            // Not queued: nobody else can have seen the id, unless `stop` took it meanwhile —
            // then the stop already answered.
            guard let call = pending.removeValue(forKey: callID) else { return true }
            pendingBytes -= call.bytes
            return false
        }
    }

    /// A payload the transport received on one of the relay channels (the transport's thread).
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
                pendingBytes -= call.bytes
                if call.counted { counters.answered += 1 }
                return call
            }
            call?.responder.send(Forwarder.relayed(response))
        }
    }

    private func serveRequest(_ request: HTTPRequest, callID: UInt64, from peer: NodeID) {
        if request.path == Self.probePath {
            let serving = lock.withLock { !stopped && handler != nil }
            answer(callID, to: peer, serving ? HTTPResponse(status: .noContent) : HTTPResponse(error: HTTPError.serviceUnavailable(
                "node is not serving forwarded requests yet", code: "overloaded")))
            return
        }
        guard Self.carries(request) else {
            lock.withLock { counters.refused += 1 }
            answer(callID, to: peer, HTTPResponse(error: HTTPError.serviceUnavailable(
                "\(request.method.rawValue) \(request.path) is not carried over the node link; send it over HTTP", code: "relay_refused")))
            return
        }
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
            answer(callID, to: peer, HTTPResponse(error: HTTPError.serviceUnavailable(
                "node is not serving forwarded requests right now (starting, stopping or overloaded); retry", code: "overloaded")))
            return
        }
        // The answer goes back only on the connection the request came in on: after a
        // reconnect the caller may be a new process whose call ids started afresh. (This runs
        // on the transport's thread, inside `receive`, so the connection is still that one.)
        let generation = link.connectionGeneration(of: peer)
        let responder = HTTPResponder { [self] response in
            lock.withLock { serving -= 1 }
            guard link.connectionGeneration(of: peer) == generation else { return }
            Self.answer(callID, to: peer, response, via: link)
        }
        handler(request, responder)
    }

    private func answer(_ callID: UInt64, to peer: NodeID, _ response: HTTPResponse) {
        guard let link = lock.withLock({ self.link }) else { return }
        Self.answer(callID, to: peer, response, via: link)
    }

    /// Queues an answer; a lost one leaves the caller to its timeout or its link-lost check.
    private static func answer(_ callID: UInt64, to peer: NodeID, _ response: HTTPResponse, via link: any RelayLink) {
        _ = link.send(RelayCodec.encode(response: response, callID: callID), on: RelayChannel.response, to: peer)
    }

    /// Fails the calls whose connection is gone or replaced, and those past their deadline.
    func sweep() {
        let (peers, link, seen) = lock.withLock { (Set(pending.values.map(\.peer)), self.link, registrations) }
        guard let link, !peers.isEmpty else { return }
        var generations: [NodeID: UInt64] = [:]
        for peer in peers { generations[peer] = link.connectionGeneration(of: peer) }
        let now = clock.monotonicNanoseconds()
        let failed: [(Pending, HTTPError)] = lock.withLock {
            var failed: [(Pending, HTTPError)] = []
            for (id, call) in pending {
                // A call registered since the snapshot above is judged by the next sweep.
                guard call.sequence <= seen else { continue }
                if generations[call.peer] != call.generation {
                    if call.counted { counters.linkLost += 1 }
                    failed.append((call, .serviceUnavailable(
                        "the link to node \(call.peer.rawValue) broke while it served the request; its outcome is unknown, retry", code: "forward_failed")))
                } else if now >= call.deadline {
                    if call.counted { counters.timedOut += 1 }
                    failed.append((call, .serviceUnavailable(
                        "node \(call.peer.rawValue) did not answer in time; the request's outcome is unknown, retry", code: "forward_failed")))
                } else {
                    continue
                }
                pending[id] = nil
                pendingBytes -= call.bytes
            }
            return failed
        }
        for (call, error) in failed { call.responder.send(error: error) }
    }
}
