import CZooKeeper
import Dispatch
import Foundation
import Glibc
import Testing
@testable import Coordination
import MOMCore

@Suite(.enabled(if: ZooKeeperTestEnvironment.enabled, ZooKeeperTestEnvironment.skipReason))
struct ZooKeeperCoordinatorTests {
    @Test(arguments: ConformanceCase.allCases)
    func conformance(_ testCase: ConformanceCase) async throws {
        let cluster = ZooKeeperCluster(address: try ZooKeeperTestEnvironment.requireAddress())
        try await testCase.run(in: cluster)
        try await cluster.tearDown()
    }

    /// The whole suite in one root, then the layout check over everything it left.
    @Test func wholeSuiteWritesOnlyTheDocumentedLayout() async throws {
        let address = try ZooKeeperTestEnvironment.requireAddress()
        let root = ZooKeeperTestEnvironment.uniqueRoot() + "/nested/mom"
        // The suite's cases use distinct groups where they share one; a shared root needs that,
        // so each case gets its own cluster object but the same root, one after another.
        for testCase in ConformanceCase.allCases where testCase.sharesRootSafely {
            let cluster = ZooKeeperCluster(address: address, root: root)
            try await testCase.run(in: cluster)
            try await cluster.closeOnly()
        }
        let administrator = try ZooKeeperAdministrator(address: address)
        let subtree = try await administrator.subtree(root)
        try expectLayout(subtree, root: root)
        #expect(subtree.contains { $0.path == root + "/groups/42" })
        // The ancestors of the root hold nothing but the path down to it.
        let top = String(root.split(separator: "/").first!)
        let ancestors = try await administrator.subtree("/" + top).filter { !$0.path.hasPrefix(root) }
        #expect(ancestors.map(\.path) == ["/" + top, "/" + top + "/nested"])
        try await administrator.deleteSubtree("/" + top)
        await administrator.close()
    }

    @Test func badRootIsRejected() throws {
        for root in ["mom", "/", "/a//b", "/a/../b", "/zookeeper/mom"] {
            #expect(throws: CoordinationError.self) {
                try ZooKeeperCoordinator(configuration: ZooKeeperConfiguration(connectString: "127.0.0.1:1", root: root))
            }
        }
    }

    /// A record someone else wrote that is not MOM's JSON is reported, not trusted.
    @Test func undecodableMembershipIsReported() async throws {
        let cluster = ZooKeeperCluster(address: try ZooKeeperTestEnvironment.requireAddress())
        let node = try cluster.makeZooKeeperCoordinator()
        _ = try await node.createMembership(ConformanceCase.three, for: GroupID(1))
        let administrator = try ZooKeeperAdministrator(address: cluster.address)
        let path = cluster.root + "/groups/1"
        let written = await administrator.session.set(path, data: Array("{\"replicas\":\"x\"}".utf8), version: -1)
        #expect(written.status.isOK)
        do throws(CoordinationError) {
            _ = try await node.membership(of: GroupID(1))
            Issue.record("decoded a corrupt record")
        } catch {
            guard case .invalidData(let reported, _) = error else { Issue.record("unexpected \(error)"); return }
            #expect(reported == path)
        }
        _ = await administrator.session.set(path, data: CoordinationCodec.encode(ConformanceCase.three), version: -1)
        await administrator.close()
        try await cluster.tearDown()
    }

    /// Forces an expiry the standard way: a second handle with the same session ID and password
    /// connects, then closes the session. The coordinator must re-register and re-arm watches.
    @Test func sessionExpiryReRegistersAndReArmsWatches() async throws {
        let cluster = ZooKeeperCluster(address: try ZooKeeperTestEnvironment.requireAddress())
        let expiring = try cluster.makeZooKeeperCoordinator()
        let other = try cluster.makeZooKeeperCoordinator()
        let group = GroupID(77)
        try await expiring.register(NodeID(1), at: registration(1))
        let created = try await other.createMembership(ConformanceCase.three, for: group)
        let groupWatch = WatchRecorder(expiring.watchMembership(of: group))
        let nodeWatch = WatchRecorder(expiring.watchLiveNodes())
        #expect(await groupWatch.waitFor { $0 == created })
        #expect(await nodeWatch.waitFor { $0.keys.sorted() == [NodeID(1)] })
        let oldSession = try #require(expiring.session.sessionID)

        try await expireSession(of: expiring, address: cluster.address)

        // A new session, and the registration is back, owned by it.
        #expect(await eventually { expiring.session.sessionID.map { $0 != oldSession } ?? false })
        #expect(await eventually { expiring.sessionState == .connected })
        let administrator = try ZooKeeperAdministrator(address: cluster.address)
        let nodePath = cluster.root + "/nodes/1"
        #expect(await eventually {
            let stat = await administrator.session.exists(nodePath, watch: false).stat
            return stat != nil && stat?.ephemeralOwner == expiring.session.sessionID
        })
        await administrator.close()
        #expect(try await other.liveNodes() == [NodeID(1): registration(1)])

        // Watches fire again: a membership change and a new node reach the expired coordinator.
        var next = ConformanceCase.three
        next.epoch = 2
        let updated = try await other.compareAndSetMembership(next, for: group, expectedVersion: created.version)
        #expect(await groupWatch.waitFor { $0 == updated })
        try await other.register(NodeID(2), at: registration(2))
        #expect(await nodeWatch.waitFor { $0.keys.sorted() == [NodeID(1), NodeID(2)] })
        try await cluster.tearDown()
    }

    /// The borrowed handle and the coordinator's own can take the session from each other
    /// while both reconnect; the close only ends the session if the borrowed handle holds it at
    /// that moment. So close as soon as it connects, check, and retry a bounded number of times.
    private func expireSession(of coordinator: ZooKeeperCoordinator, address: String) async throws {
        var clientID = try #require(coordinator.session.clientID())
        let expiredSession = clientID.client_id
        for _ in 0..<5 {
            let handle = ZooKeeperHandlePointer(
                raw: try #require(address.withCString { zookeeper_init($0, nil, 4_000, &clientID, nil, 0) }))
            let connected = await Self.closeOnceConnected(handle)
            try #require(connected, "the second handle never connected with the borrowed session")
            if await eventually(timeoutSeconds: 5, { coordinator.session.sessionID != expiredSession }) { return }
        }
        Issue.record("the session did not expire after 5 attempts")
    }

    /// Polls the handle's state every millisecond on a Dispatch thread (blocking is fine there,
    /// and zookeeper_close may not run on a libzookeeper thread), closes it once it is connected,
    /// or after 10 s. Returns whether it connected.
    private static func closeOnceConnected(_ handle: ZooKeeperHandlePointer) async -> Bool {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                var connected = false
                for _ in 0..<10_000 where !connected {
                    connected = zoo_state(handle.raw) == ZOO_CONNECTED_STATE
                    if !connected { usleep(1_000) }
                }
                zookeeper_close(handle.raw)
                continuation.resume(returning: connected)
            }
        }
    }
}

extension ConformanceCase {
    /// Cases whose groups and nodes do not collide when run one after another in one root.
    var sharesRootSafely: Bool {
        switch self {
        // Both expect no groups (or no group 1) at the start.
        case .invalidMembershipIsRejected, .groupsAreListed:
            false
        default:
            true
        }
    }
}

extension ZooKeeperCluster {
    /// Closes the coordinators but keeps the data, for tests that inspect it afterwards.
    func closeOnly() async throws {
        for coordinator in madeCoordinators() { await coordinator.close() }
    }
}
