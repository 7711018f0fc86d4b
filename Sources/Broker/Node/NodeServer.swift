import Auth
import Coordination
import Foundation
import Glibc
import HTTPServer
import MOMCore
import Replication
import SystemIO

/// Runs momd: builds a node from its configuration, serves HTTP, and stops gracefully on
/// SIGTERM or SIGINT (leadership handed over, coordinator session closed, logs flushed).
public enum NodeServer {
    public static let usage = """
        usage: momd [--config FILE] --node-id N --data-dir DIR \\
                    --http-listen 127.0.0.1:8080 --raft-listen 127.0.0.1:9090 \\
                    [--zookeeper HOST:PORT[,HOST:PORT…]] [--zk-root /mom] [--users-db FILE] \\
                    [--cluster-id NAME] [--meta-replicas 1,2,3] [--secret-file FILE] [--tick-ms 100] \\
                    [--heartbeat-ticks 2] [--raft-advertise HOST:PORT] [--group-commit syncfs|fdatasync] \\
                    [--storage-writes adaptive|async|sync] [--transport-thread shared|own] \\
                    [--http-thread shared|own] [--fetch-encoding offload|inline] [--quiesce on|off] \\
                    [--page-cache-tail-mb N|all]

        Runs one MOM broker node. Without --zookeeper it runs standalone on an embedded
        coordinator. The JWT secret comes from MOM_SECRET_KEY or --secret-file.
        --raft-advertise is the Raft address registered for peers to dial, when it differs
        from --raft-listen (a proxy in between).
        --group-commit syncfs (default) makes every partition log written in one pass durable
        with one syncfs of the data directory's file system; fdatasync syncs each log on its
        own. Give the data directory a file system of its own with syncfs.
        --storage-writes async runs that syncfs on a thread of its own while replication goes
        on; sync makes each pass wait for it; adaptive (default, with syncfs) is async except
        for a pass that finds no sync running and wrote a few entries of one log, which syncs
        them itself (less latency at light load). Either way a produce is acked only after a
        majority has its records on disk.
        --transport-thread shared (default) runs the node-to-node transport on the replication
        loop's thread; own gives it a thread of its own.
        --http-thread shared (default) runs the HTTP server on the replication loop's thread
        too (with --transport-thread shared, on a node with peers); own gives it a thread of
        its own.
        --fetch-encoding inline (default) encodes fetch answers on the replication loop;
        offload encodes those of 64 KiB or more on a thread of their own (on 2 vCPUs it made
        produces slower while consumers read, docs/performance.md §21).
        --page-cache-tail-mb N keeps N MiB of each partition's newest durable data in the page
        cache and frees older pages as the log grows (steadier writes where fresh memory is
        slow, as in some VMs; older reads come from the disk); all (default) leaves every page
        to the kernel.
        A Raft leader heartbeats every --heartbeat-ticks ticks (1-5); a follower campaigns after
        10-20 ticks without hearing from its leader.
        --quiesce on (default): a group with nothing in flight stops heartbeating and the node
        keeps its peers alive with one message each per heartbeat interval; a group whose
        leader's node falls silent for 10 ticks wakes and elects. off: every group heartbeats.
        """

    /// Makes the peer link for a node (the TCP transport in production).
    /// Forwarded writes may ride it too, through the `NodeRelay`.
    public typealias LinkFactory = @Sendable (NodeConfig, ReplicationHost, NodeRelay) throws -> (link: any PeerLink, stop: @Sendable () -> Void, updatePeers: @Sendable ([NodeID: SocketAddress]) -> Void)

    /// Runs until a stop signal; returns the process exit code.
    public static func run(arguments: [String], makeLink: LinkFactory) async -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") {
            print(usage)
            return 0
        }
        let config: NodeConfig
        do {
            config = try NodeConfig.parse(arguments: arguments)
        } catch {
            Log.error("momd: \(error)", [])
            return 2
        }
        do {
            let running = try await start(config, makeLink: makeLink)
            let signal = await waitForStopSignal()
            Log.info("stopping", [("signal", "\(signal)"), ("node", "\(config.nodeID.rawValue)")])
            await running.stop()
            Log.info("stopped", [("node", "\(config.nodeID.rawValue)")])
            return 0
        } catch {
            Log.error("momd failed to start: \(error)", [("node", "\(config.nodeID.rawValue)")])
            return 1
        }
    }

    /// A started node and what stops it.
    struct Running: Sendable {
        let node: BrokerNode
        let server: HTTPServer
        let pool: HTTPClientPool
        let relay: NodeRelay
        let api: BrokerAPI
        let stopLink: @Sendable () -> Void

        func stop() async {
            await node.stop()
            // The relay's pending calls are answered 503 while their clients are still connected.
            relay.stop()
            server.shutdown(graceMilliseconds: 2_000)
            api.stopWorkers()
            stopLink()
            pool.shutdown()
            await node.coordinator.close()
        }
    }

    static func start(_ config: NodeConfig, makeLink: LinkFactory) async throws -> Running {
        let clock = SystemClock()
        // Refuse to start without a secret before touching anything else.
        _ = try makeAuth(config, clock: clock, checkOnly: true)
        let limits = Limits.standard
        let coordinator: any Coordinator
        if let zookeeper = config.zookeeper {
            coordinator = try ZooKeeperCoordinator(configuration: ZooKeeperConfiguration(connectString: zookeeper, root: config.zookeeperRoot))
        } else {
            coordinator = InMemoryCoordinator()
        }
        let relay = LinkRelay()
        let metrics = NodeMetrics(clock: clock)
        let fileSystem = MeasuredFileSystem(PosixFileSystem(), syncLatency: metrics.sync, clock: clock)
        let fileSystemSync = try makeFileSystemSync(config, metrics: metrics, clock: clock)
        let factory = SegmentGroupLogFactory(dataDirectory: config.dataDirectory, fileSystem: fileSystem, limits: limits, clock: clock,
                                             fileSystemSync: fileSystemSync, cachedTailBytes: config.pageCacheTailBytes)
        var seed = SystemRandom()
        let node = BrokerNode(config: config, coordinator: coordinator, link: relay, logFactory: factory,
                              clock: clock, limits: limits, randomSeed: seed.next(), metrics: metrics,
                              fileSystemSync: fileSystemSync)
        let nodeRelay = NodeRelay(limits: limits, clock: clock, timeoutMilliseconds: forwardTimeoutMilliseconds, firstCallID: seed.next())
        let link = try makeLink(config, node.host, nodeRelay)
        relay.target = link.link
        node.onPeersChanged = link.updatePeers
        try await node.start()
        let pool = HTTPClientPool(threadCount: 16, timeoutMilliseconds: forwardTimeoutMilliseconds)
        let (gate, loginWorker) = try makeAuth(config, clock: clock)
        let fetchEncoder = config.fetchEncoding == .offload ? OffloadWorker(name: "mom-fetch-json", queueMax: 64) : nil
        let api = BrokerAPI(node: node, forwarder: Forwarder(pool: pool, peers: node.peers, relay: nodeRelay), gate: gate,
                            loginWorker: loginWorker, fetchEncoder: fetchEncoder)
        let router = api.makeInstrumentedRouter()
        nodeRelay.serve { request, responder in router.handle(request, responder: responder) }
        nodeRelay.startSweeping()
        let server = HTTPServer(configuration: HTTPServerConfiguration(address: config.httpListen, limits: limits, clock: clock), router: router)
        let address = try startHTTP(server, config: config, host: node.host)
        Log.info("node started", [
            ("node", "\(config.nodeID.rawValue)"), ("http", "\(address)"), ("raft", "\(config.raftListen)"),
            ("coordinator", config.zookeeper.map { "zookeeper \($0)\(config.zookeeperRoot)" } ?? "embedded"),
            ("data", config.dataDirectory),
        ])
        return Running(node: node, server: server, pool: pool, relay: nodeRelay, api: api, stopLink: link.stop)
    }

    /// Starts the HTTP server on a thread of its own, or (`--http-thread shared`, when the
    /// transport shares the replication loop's thread) on that loop's thread.
    static func startHTTP(_ server: HTTPServer, config: NodeConfig, host: ReplicationHost) throws -> SocketAddress {
        guard config.httpThread == .shared, let loop = host.loopWaiter as? SharedLoop else {
            if config.httpThread == .shared {
                Log.info("--http-thread shared: this node has no transport to share a thread with; the HTTP server gets its own", [("node", "\(config.nodeID.rawValue)")])
            }
            return try server.start()
        }
        let (driver, address) = try server.startDriven()
        try loop.serve(driver)
        return address
    }

    /// How long a forwarded request may wait for the node it went to (over HTTP or the relay):
    /// longer than a long-poll's longest wait, so the serving node answers first.
    static let forwardTimeoutMilliseconds: UInt64 = 35_000

    /// With `--group-commit syncfs` (the default), one syncfs of the data directory's file
    /// system makes every dirty log of a loop pass durable. The descriptor is opened here,
    /// before any log is written, and kept for the node's life: syncfs reports writeback
    /// errors that happened since the descriptor was opened.
    static func makeFileSystemSync(_ config: NodeConfig, metrics: NodeMetrics, clock: any Clock) throws -> (any FileSystemSync)? {
        guard config.groupCommit == .syncfs else { return nil }
        try SegmentGroupLog.makeDirectories(config.dataDirectory, fileSystem: PosixFileSystem())
        return MeasuredFileSystemSync(try PosixFileSystemSync(directory: config.dataDirectory), syncLatency: metrics.sync, clock: clock)
    }

    /// The token gate and the login worker. Without a secret momd refuses to start, unless it
    /// runs with `--insecure-no-auth`, which is logged loudly.
    static func makeAuth(_ config: NodeConfig, clock: any Clock, checkOnly: Bool = false) throws -> (AuthGate, LoginWorker?) {
        if config.insecureNoAuth {
            if !checkOnly {
                Log.warn("AUTHENTICATION IS OFF (--insecure-no-auth): every request is served without a token; never use this outside a test", [("node", "\(config.nodeID.rawValue)")])
            }
            return (AuthGate(verifier: nil), nil)
        }
        let secret: String
        if let fromEnvironment = getenv("MOM_SECRET_KEY").map({ String(cString: $0) }), !fromEnvironment.isEmpty {
            secret = fromEnvironment
        } else if let path = config.secretFile {
            let bytes = try NodeConfig.readFile(path)
            secret = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        } else {
            throw NodeConfig.Invalid(message: "no JWT secret: set MOM_SECRET_KEY (at least 32 bytes) or --secret-file FILE; momd refuses to start without one")
        }
        let key: SigningKey
        do { key = try SigningKey(secret: secret) } catch { throw NodeConfig.Invalid(message: "the JWT secret is unusable: \(error)") }
        if checkOnly { return (AuthGate(verifier: nil), nil) }
        let gate = AuthGate(verifier: TokenVerifier(key: key, clock: clock), internalIssuer: TokenIssuer(key: key, lifetimeSeconds: 300, clock: clock))
        guard let usersDatabase = config.usersDatabase else {
            Log.warn("no --users-db: tokens are verified but this node cannot issue them", [("node", "\(config.nodeID.rawValue)")])
            return (gate, nil)
        }
        let store = try UserStore(path: usersDatabase, createIfMissing: true, clock: clock)
        return (gate, LoginWorker(authenticator: Authenticator(store: store, issuer: TokenIssuer(key: key, clock: clock))))
    }

    /// SIGTERM and SIGINT write to a pipe from an async-signal-safe handler; one thread waits on
    /// the pipe. (Masking with sigwait is not enough: the Swift runtime may have started threads
    /// before main runs, and a signal delivered to one of them would kill the process.)
    /// SIGPIPE is ignored: a closed socket is an error return, not a death.
    public static func blockStopSignals() {
        signal(SIGPIPE, SIG_IGN)
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return }
        stopSignalReadFD = fds[0]
        stopSignalWriteFD = fds[1]
        for stopSignal in [SIGTERM, SIGINT] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { received in
                var byte = UInt8(truncatingIfNeeded: received)
                _ = Glibc.write(stopSignalWriteFD, &byte, 1)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(stopSignal, &action, nil)
        }
    }

    static func waitForStopSignal() async -> Int32 {
        await withCheckedContinuation { continuation in
            _ = OSThread.start(name: "mom-signals") {
                var byte: UInt8 = 0
                while Glibc.read(stopSignalReadFD, &byte, 1) < 0 && errno == EINTR {}
                continuation.resume(returning: Int32(byte))
            }
        }
    }
}

/// The self-pipe of the stop-signal handler; set once in `blockStopSignals` before any signal
/// can arrive, then only read.
nonisolated(unsafe) private var stopSignalReadFD: Int32 = -1
nonisolated(unsafe) private var stopSignalWriteFD: Int32 = -1

/// Lets the node be built before its transport exists (the transport needs the host to
/// deliver into): sends go to `target` once set, and are dropped before (Raft retries).
final class LinkRelay: PeerLink, @unchecked Sendable {
    private let lock = ConditionMutex()
    private var current: (any PeerLink)?

    var target: (any PeerLink)? {
        get { lock.withLock { current } }
        set { lock.withLock { current = newValue } }
    }

    func send(to peer: NodeID, group: GroupID, payload: [UInt8]) { target?.send(to: peer, group: group, payload: payload) }
}
