import Foundation
import Glibc
import Synchronization
import Testing
import TestSupport
@testable import Coordination
import MOMCore

/// Where the test ZooKeeper is. scripts/test starts one and sets MOM_TEST_ZOOKEEPER and
/// MOM_REQUIRE_ZOOKEEPER=1; without them, ZooKeeper tests are skipped (and say why) unless
/// required, in which case they fail.
enum ZooKeeperTestEnvironment {
    static let address = ProcessInfo.processInfo.environment["MOM_TEST_ZOOKEEPER"]
    static let required = ProcessInfo.processInfo.environment["MOM_REQUIRE_ZOOKEEPER"] == "1"
    /// Run the tests if there is a ZooKeeper, or if one is required (then they fail without it).
    static let enabled = address != nil || required
    static let skipReason: Comment =
        "ZooKeeper tests skipped: MOM_TEST_ZOOKEEPER is not set (scripts/test starts a ZooKeeper and sets it)"

    /// The address, or a failure explaining that it is required but missing.
    static func requireAddress() throws -> String {
        try #require(address, "MOM_REQUIRE_ZOOKEEPER=1 but MOM_TEST_ZOOKEEPER is not set; run scripts/test")
    }

    /// A root no other test uses, so tests run in parallel against one ZooKeeper.
    static func uniqueRoot() -> String {
        "/mom-test-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }

    /// Short sessions so expiry tests are quick. The C client is silenced: while a test holds
    /// ZooKeeper down it logs a refused connection every ~65 ms per client.
    static func configuration(address: String, root: String) -> ZooKeeperConfiguration {
        ZooKeeperConfiguration(
            connectString: address, root: root, sessionTimeoutMilliseconds: 4_000,
            retryDelayMilliseconds: 200, logLevel: .off)
    }
}

/// A raw session for the tests' own inspection and cleanup, outside any coordinator.
final class ZooKeeperAdministrator: Sendable {
    let session: ZooKeeperSession

    init(address: String) throws {
        session = ZooKeeperSession(connectString: address, sessionTimeoutMilliseconds: 4_000, retryDelayMilliseconds: 200)
        try session.start { _ in }
    }

    /// Runs `call` again (bounded: 40 tries, 250 ms apart) while it fails with connection loss:
    /// on a loaded machine this inspection session can lose its link for a moment, which says
    /// nothing about the coordinator under test.
    private func retrying(_ call: () async -> ZooKeeperReply) async -> ZooKeeperReply {
        var reply = await call()
        for _ in 0..<40 where reply.status == .connectionLoss {
            try? await Task.sleep(for: .milliseconds(250))
            reply = await call()
        }
        return reply
    }

    /// Every znode at or below `root`, parents before children, with its stat and data.
    func subtree(_ root: String) async throws -> [(path: String, stat: ZooKeeperStat, data: [UInt8])] {
        var result: [(path: String, stat: ZooKeeperStat, data: [UInt8])] = []
        var queue = [root]
        while let path = queue.first, result.count < 10_000 {
            queue.removeFirst()
            let node = await retrying { await session.get(path, watch: false) }
            if node.status == .noNode { continue }
            try #require(node.status.isOK, "get \(path): \(node.status)")
            result.append((path, try #require(node.stat), node.data))
            let children = await retrying { await session.children(path, watch: false) }
            if children.status == .noNode { continue }
            try #require(children.status.isOK, "children \(path): \(children.status)")
            queue += children.names.sorted().map { path + "/" + $0 }
        }
        return result
    }

    /// Deletes `root` and everything below it, children first.
    func deleteSubtree(_ root: String) async throws {
        for node in try await subtree(root).reversed() {
            let reply = await retrying { await session.delete(node.path, version: -1) }
            try #require(reply.status.isOK || reply.status == .noNode, "delete \(node.path): \(reply.status)")
        }
    }

    func close() async { await session.close() }
}

/// Checks docs/zookeeper.md's promise: under the root there is nothing but `nodes`, `groups`,
/// decimal children of each holding the documented JSON, nodes ephemeral and groups persistent.
func expectLayout(_ subtree: [(path: String, stat: ZooKeeperStat, data: [UInt8])], root: String) throws {
    for node in subtree {
        let relative = node.path == root ? "" : String(node.path.dropFirst(root.count + 1))
        let parts = relative.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        switch parts.count {
        case 1 where parts[0] == "" || parts[0] == "nodes" || parts[0] == "groups":
            #expect(node.stat.ephemeralOwner == 0, "\(node.path) must be persistent")
            #expect(node.data.isEmpty, "\(node.path) must hold no data")
        case 2 where parts[0] == "nodes" && CoordinationLayout.identifier(fromChild: parts[1]) != nil:
            #expect(node.stat.ephemeralOwner != 0, "\(node.path) must be ephemeral")
            _ = try CoordinationCodec.decodeRegistration(node.data, path: node.path)
            let keys = try JSONSerialization.jsonObject(with: Data(node.data)) as? [String: Any]
            #expect(keys.map { Set($0.keys) } == ["http", "raft"], "\(node.path): unexpected JSON keys")
        case 2 where parts[0] == "groups" && CoordinationLayout.identifier(fromChild: parts[1]) != nil:
            #expect(node.stat.ephemeralOwner == 0, "\(node.path) must be persistent")
            _ = try CoordinationCodec.decodeMembership(node.data, path: node.path, limits: .standard)
            let keys = try JSONSerialization.jsonObject(with: Data(node.data)) as? [String: Any]
            #expect(keys.map { Set($0.keys) } == ["replicas", "learners", "epoch"], "\(node.path): unexpected JSON keys")
        default:
            Issue.record("\(node.path) is not part of the documented layout under \(root)")
        }
    }
}

/// Coordinators on one ZooKeeper under one unique root. Tear-down closes them, checks the
/// layout (and that closed sessions left no registration), then deletes the root.
final class ZooKeeperCluster: CoordinationCluster {
    let address: String
    let root: String
    private let made = Mutex<[ZooKeeperCoordinator]>([])

    init(address: String, root: String = ZooKeeperTestEnvironment.uniqueRoot()) {
        self.address = address
        self.root = root
    }

    func makeCoordinator() async throws -> any Coordinator {
        try makeZooKeeperCoordinator()
    }

    func makeZooKeeperCoordinator() throws -> ZooKeeperCoordinator {
        let coordinator = try ZooKeeperCoordinator(
            configuration: ZooKeeperTestEnvironment.configuration(address: address, root: root))
        made.withLock { $0.append(coordinator) }
        return coordinator
    }

    func madeCoordinators() -> [ZooKeeperCoordinator] { made.withLock { $0 } }

    func tearDown() async throws {
        for coordinator in madeCoordinators() { await coordinator.close() }
        let administrator = try ZooKeeperAdministrator(address: address)
        let subtree = try await administrator.subtree(root)
        try expectLayout(subtree, root: root)
        #expect(!subtree.contains { $0.path.hasPrefix(root + "/nodes/") }, "closed sessions left registrations")
        try await administrator.deleteSubtree(root)
        await administrator.close()
    }
}

/// A ZooKeeper of a test's own, for tests that stop and restart it: started through
/// scripts/zookeeper on a free port in a fresh temporary directory.
final class LocalZooKeeper: Sendable {
    let port: Int
    let directory: String
    var address: String { "127.0.0.1:\(port)" }

    static let script: String = {
        // Tests/CoordinationTests/<file> → repository root.
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/zookeeper").path
    }()

    /// The test process's environment, with a readiness bound of 120 s unless one is set: the JVM
    /// starts while the parallel test phase loads both cores, and 30 s was once not enough.
    static let environment: [String] = {
        var variables = ProcessInfo.processInfo.environment
        if variables["MOM_ZOOKEEPER_READY_SECONDS"] == nil { variables["MOM_ZOOKEEPER_READY_SECONDS"] = "120" }
        return variables.map { "\($0.key)=\($0.value)" }
    }()

    private init(port: Int, directory: String) {
        self.port = port
        self.directory = directory
    }

    static func start() async throws -> LocalZooKeeper {
        var template = Array((FileManager.default.temporaryDirectory.path + "/mom-zk-XXXXXX").utf8CString)
        let directory = try #require(template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }.map { String(cString: $0) })
        let instance = LocalZooKeeper(port: Int(try TestPorts.take(1)[0]), directory: directory)
        try await instance.start()
        return instance
    }

    func start() async throws {
        try await run(["start", "--port", String(port), "--dir", directory])
    }

    func stop() async throws {
        try await run(["stop", "--dir", directory])
    }

    /// Stops the server and deletes its directory.
    func destroy() async throws {
        try await stop()
        try FileManager.default.removeItem(atPath: directory)
    }

    /// Runs scripts/zookeeper with its output in a file, not a pipe: the java process it leaves
    /// running would inherit a pipe and keep it open. posix_spawn + waitpid on a Dispatch thread
    /// rather than Foundation's Process, whose exit notification did not arrive in the test runner.
    private func run(_ arguments: [String]) async throws {
        let logPath = directory + "/script.log"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([Self.script] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let envp = Self.environment.map { strdup($0) } + [nil]
        defer { envp.forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, Self.script, &actions, nil, argv, envp)
        try #require(spawned == 0, "cannot run \(Self.script): errno \(spawned)")
        let child = pid
        let status: Int32 = await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var status: Int32 = 0
                while waitpid(child, &status, 0) == -1 && errno == EINTR {}
                continuation.resume(returning: status)
            }
        }
        let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        try #require(status == 0, "scripts/zookeeper \(arguments.joined(separator: " ")) failed: \(text)")
    }
}
