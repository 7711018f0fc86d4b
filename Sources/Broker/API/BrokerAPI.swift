import Auth
import HTTPServer
import MOMCore
import Replication
import SystemIO

/// The REST handlers of one node, per DESIGN.md §4. Every handler answers through its responder,
/// possibly later (after a Raft commit, after a long-poll, or after forwarding).
final class BrokerAPI: @unchecked Sendable {
    let node: BrokerNode
    let limits: Limits
    let forwarder: Forwarder
    let gate: AuthGate
    let loginWorker: LoginWorker?
    /// Encodes large fetch answers off the replication loop; nil: every answer is encoded inline.
    let fetchEncoder: OffloadWorker?
    private let roundRobin = ConditionCounter()
    /// How long a request for a leaderless partition waits for an election before it gives up.
    let leaderWaitMilliseconds: UInt64 = 3_000

    init(node: BrokerNode, forwarder: Forwarder, gate: AuthGate, loginWorker: LoginWorker?, fetchEncoder: OffloadWorker? = nil) {
        self.node = node
        self.limits = node.limits
        self.forwarder = forwarder
        self.gate = gate
        self.loginWorker = loginWorker
        self.fetchEncoder = fetchEncoder
    }

    /// Ends the worker threads (after the HTTP server stopped: their last jobs answer into it).
    func stopWorkers() {
        fetchEncoder?.stop()
        loginWorker?.stop()
    }

    func makeRouter() -> Router {
        var router = Router()
        registerAuth(&router)
        registerOperations(&router)
        registerTopicAdmin(&router)
        registerReassignment(&router)
        registerRecords(&router)
        registerQueues(&router)
        registerExchanges(&router)
        registerSubscriptions(&router)
        registerMetrics(&router)
        registerUI(&router)
        return router
    }

    /// The next request's sticky partition rotation for keyless records (advances per request).
    func nextRoundRobin() -> Int { roundRobin.next() }

    /// Calls `completion` (on the replication loop) once every group in `groups` has a known
    /// leader here, or their waits ran out (bounded). New partitions and failovers take a moment.
    func awaitLeaders(of groups: [GroupID], timeoutMilliseconds: UInt64, completion: @escaping @Sendable () -> Void) {
        guard let first = groups.first else { return completion() }
        node.host.waitForLeader(first, timeoutMilliseconds: timeoutMilliseconds) { [self] _ in
            awaitLeaders(of: Array(groups.dropFirst()), timeoutMilliseconds: timeoutMilliseconds, completion: completion)
        }
    }

    /// Returns the `__meta` leader when it is this node; otherwise forwards (or answers 503) and
    /// returns nil.
    func metaLeaderOrForward(_ request: HTTPRequest, _ responder: HTTPResponder) -> NodeID? {
        let status = node.host.status(of: MetaStateMachine.group)
        if status?.role == .leader { return node.config.nodeID }
        if let leader = status?.leader, leader != node.config.nodeID {
            forwarder.forward(request, to: leader, responder: responder)
        } else {
            responder.send(error: HTTPError.serviceUnavailable("the catalog has no leader yet (no quorum of meta replicas); retry", code: "no_leader"))
        }
        return nil
    }

    /// Proposes a catalog command on this node (the `__meta` leader, or forwards there) and
    /// answers with `render` once it applied, or with the command's error.
    func proposeCatalog(
        _ command: CatalogCommand, request: HTTPRequest, responder: HTTPResponder,
        render: @escaping @Sendable (CatalogOutcome) -> HTTPResponse
    ) {
        guard metaLeaderOrForward(request, responder) != nil else { return }
        let meta = node.meta
        node.host.propose(MetaStateMachine.group, entries: [command.encoded()]) { result in
            switch result {
            case .success(let range):
                switch meta.outcome(at: range.upperBound) {
                case .success(let outcome): responder.send(render(outcome))
                case .failure(let error): responder.send(error: error.httpError)
                case nil: responder.send(error: HTTPError.internalError)
                }
            case .failure(let error):
                responder.send(error: error.httpError)
            }
        }
    }
}

/// A thread-safe counter.
final class ConditionCounter: @unchecked Sendable {
    private let lock = ConditionMutex()
    private var value = 0
    func next() -> Int { lock.withLock { value = value &+ 1; return value & Int.max } }
}
