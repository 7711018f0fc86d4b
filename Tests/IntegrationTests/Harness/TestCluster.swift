import Foundation
import Glibc
import Testing
import TestSupport

/// Where the test ZooKeeper is: scripts/test starts one and sets MOM_TEST_ZOOKEEPER and
/// MOM_REQUIRE_ZOOKEEPER=1. Without them the cluster tests are skipped, unless required.
enum IntegrationEnvironment {
    static let zookeeper = ProcessInfo.processInfo.environment["MOM_TEST_ZOOKEEPER"]
    static let required = ProcessInfo.processInfo.environment["MOM_REQUIRE_ZOOKEEPER"] == "1"
    static let enabled = zookeeper != nil || required
    static let skipReason: Comment =
        "cluster tests skipped: MOM_TEST_ZOOKEEPER is not set (scripts/test starts a ZooKeeper and sets it)"
    /// MOM_IT_KEEP=1 keeps data directories and logs for a post-mortem.
    static let keepFiles = ProcessInfo.processInfo.environment["MOM_IT_KEEP"] == "1"

    static func requireZooKeeper() throws -> String {
        try #require(zookeeper, "MOM_REQUIRE_ZOOKEEPER=1 but MOM_TEST_ZOOKEEPER is not set; run scripts/test")
    }

    /// The already-built `momd` next to this test binary (`.build/<config>/momd`), or the one
    /// MOM_IT_MOMD names (e.g. a release build, to measure).
    static func momdPath() -> String? {
        if let chosen = ProcessInfo.processInfo.environment["MOM_IT_MOMD"] { return access(chosen, X_OK) == 0 ? chosen : nil }
        var buffer = [CChar](repeating: 0, count: 4096)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        var candidates: [String] = []
        if length > 0 {
            let executable = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            var directory = (executable as NSString).deletingLastPathComponent
            for _ in 0..<4 {  // the test binary may sit inside a bundle directory (…/X.xctest/…)
                candidates.append(directory + "/momd")
                directory = (directory as NSString).deletingLastPathComponent
            }
        }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent().path
        candidates += [packageRoot + "/.build/debug/momd", packageRoot + "/.build/release/momd"]
        return candidates.first { access($0, X_OK) == 0 }
    }
}

/// One momd of a test cluster: its ports, data directory, log file and (while running) process.
final class ClusterNode: @unchecked Sendable {
    let id: Int
    let httpPort: UInt16
    let raftPort: UInt16
    let dataDirectory: String
    let logPath: String
    let client: NodeClient
    private let lock = NSLock()
    private var running: ChildProcess?

    init(id: Int, httpPort: UInt16, raftPort: UInt16, directory: String) throws {
        self.id = id
        self.httpPort = httpPort
        self.raftPort = raftPort
        self.dataDirectory = directory + "/node\(id)"
        self.logPath = directory + "/node\(id).log"
        self.client = try NodeClient(port: httpPort, timeoutMilliseconds: 15_000)
        try FileManager.default.createDirectory(atPath: dataDirectory, withIntermediateDirectories: true)
    }

    var process: ChildProcess? { lock.withLock { running } }
    var isRunning: Bool { process.map { !$0.hasExited } ?? false }

    func start(executable: String, arguments: [String], environment: [String]) throws {
        let child = try ChildProcess(executable: executable, arguments: arguments, environment: environment, logPath: logPath)
        lock.withLock { running = child }
    }

    func forget() { lock.withLock { running = nil } }
}

/// A real cluster of momd processes on 127.0.0.1 against the test ZooKeeper, under a root of
/// its own, with free ports and a temporary directory. `TestCluster.run` always tears it down.
final class TestCluster: @unchecked Sendable {
    let nodes: [ClusterNode]
    let directory: String
    let zookeeper: String
    let zookeeperRoot: String
    let executable: String
    let tickMilliseconds: Int
    /// Nodes 1…metaReplicas vote in `__meta`; later ones join it as learners.
    let metaReplicas: Int

    private init(size: Int, metaReplicas: Int, executable: String, zookeeper: String, tickMilliseconds: Int) throws {
        let directory = try Self.makeTemporaryDirectory()
        self.directory = directory
        self.executable = executable
        self.zookeeper = zookeeper
        self.tickMilliseconds = tickMilliseconds
        self.metaReplicas = metaReplicas
        zookeeperRoot = "/mom-it-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let ports = try TestPorts.take(2 * size)
        nodes = try (1...size).map { id in
            try ClusterNode(id: id, httpPort: ports[2 * (id - 1)], raftPort: ports[2 * (id - 1) + 1], directory: directory)
        }
    }

    /// Starts a cluster, waits until every node answers /healthz, runs `body`, and tears down
    /// (SIGKILL + reap every node, delete the directory) whether `body` succeeded or not.
    /// On failure the tail of every node's log is printed. Only the first `started` nodes (all by
    /// default) start; the others are there for the test to add to the running cluster.
    static func run(
        size: Int = 3, metaReplicas: Int? = nil, started: Int? = nil, tickMilliseconds: Int = 100,
        _ body: (TestCluster) async throws -> Void
    ) async throws {
        let zookeeper = try IntegrationEnvironment.requireZooKeeper()
        let executable = try #require(IntegrationEnvironment.momdPath(), "momd is not built next to the tests; run `swift build` first")
        let cluster = try TestCluster(
            size: size, metaReplicas: metaReplicas ?? size, executable: executable, zookeeper: zookeeper, tickMilliseconds: tickMilliseconds)
        do {
            let initial = cluster.nodes.prefix(started ?? size)
            for node in initial { try cluster.start(node.id) }
            for node in initial { try await cluster.waitHealthy(node.id, timeoutMilliseconds: 30_000) }
            try await body(cluster)
        } catch {
            cluster.printLogTails()
            await cluster.tearDown()
            throw error
        }
        await cluster.tearDown()
    }

    func node(_ id: Int) -> ClusterNode { nodes[id - 1] }

    /// Starts (or restarts) node `id` with the same ports and data directory.
    func start(_ id: Int) throws {
        let node = node(id)
        precondition(!node.isRunning, "node \(id) is already running")
        let arguments = [
            "--node-id", "\(id)", "--data-dir", node.dataDirectory,
            "--http-listen", "127.0.0.1:\(node.httpPort)", "--raft-listen", "127.0.0.1:\(node.raftPort)",
            "--zookeeper", zookeeper, "--zk-root", zookeeperRoot,
            "--meta-replicas", nodes.prefix(metaReplicas).map { "\($0.id)" }.joined(separator: ","), "--tick-ms", "\(tickMilliseconds)",
            // These tests are about replication and failover; tokens and roles are tested in
            // BrokerTests (AuthRouteTests), so the cluster here runs without them.
            "--insecure-no-auth",
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["MOM_SECRET_KEY"] = "integration-test-secret-key-0123456789abcdef"
        try node.start(executable: executable, arguments: arguments, environment: environment.map { "\($0.key)=\($0.value)" })
    }

    /// Polls /healthz until the node answers 200 (bounded).
    func waitHealthy(_ id: Int, timeoutMilliseconds: Int) async throws {
        let node = node(id)
        let deadline = ContinuousClock.now + .milliseconds(timeoutMilliseconds)
        // The deadline is checked after each attempt, so a test whose task was starved past it
        // (other suites blocking the cooperative pool) still gets one real try.
        while true {
            if let reply = try? await node.client.send(.get, "/healthz"), reply.status == 200 { return }
            if node.process?.hasExited ?? true { throw HarnessError("node \(id) exited during start-up; see \(node.logPath)") }
            if ContinuousClock.now >= deadline { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError("node \(id) did not answer /healthz within \(timeoutMilliseconds) ms")
    }

    /// kill -9: no hand-over, no flush beyond what was fdatasync'd.
    func kill(_ id: Int) async {
        await node(id).process?.killAndReap()
        node(id).forget()
        node(id).client.disconnect()
    }

    /// SIGSTOP: the process freezes with its sockets open (peers see silence, not refusal).
    func pause(_ id: Int) { node(id).process?.send(SIGSTOP) }

    /// SIGCONT after `pause`.
    func resume(_ id: Int) { node(id).process?.send(SIGCONT) }

    /// SIGTERM: graceful stop (leadership handed over); SIGKILL after 20 s.
    func stop(_ id: Int) async {
        await node(id).process?.terminate(graceMilliseconds: 20_000)
        node(id).forget()
        node(id).client.disconnect()
    }

    func tearDown() async {
        for node in nodes {
            await node.process?.killAndReap()
            node.forget()
            node.client.disconnect()
        }
        if !IntegrationEnvironment.keepFiles {
            try? FileManager.default.removeItem(atPath: directory)
        } else {
            print("cluster files kept in \(directory)")
        }
    }

    func printLogTails(lines: Int = 30) {
        for node in nodes {
            let text = (try? String(contentsOfFile: node.logPath, encoding: .utf8)) ?? "(no log)"
            let tail = text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
            print("---- node \(node.id) log tail (\(node.logPath)) ----\n\(tail)")
        }
    }

    private static func makeTemporaryDirectory() throws -> String {
        var template = Array((FileManager.default.temporaryDirectory.path + "/mom-it-XXXXXX").utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw HarnessError("mkdtemp failed: errno \(errno)")
        }
        return String(cString: made)
    }
}
