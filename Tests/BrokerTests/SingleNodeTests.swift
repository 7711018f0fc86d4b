import Coordination
import Glibc
import HTTPServer
import MOMCore
import Raft
import Replication
import SystemIO
import Testing
@testable import Broker

/// A standalone node driven in process through its router: no sockets, memory logs.
@Suite struct SingleNodeTests {
    final class NullLink: PeerLink, @unchecked Sendable {
        func send(to peer: NodeID, group: GroupID, payload: [UInt8]) {}
    }

    static func startNode(
        gate: AuthGate = AuthGate(verifier: nil), loginWorker: LoginWorker? = nil, coordinator: any Coordinator = InMemoryCoordinator()
    ) async throws -> (BrokerNode, Router) {
        let config = try NodeConfig.parse(arguments: [
            "--node-id", "1", "--data-dir", "/nonexistent", "--http-listen", "127.0.0.1:1", "--raft-listen", "127.0.0.1:2", "--tick-ms", "10",
        ])
        let node = BrokerNode(
            config: config, coordinator: coordinator, link: NullLink(), logFactory: MemoryGroupLogFactory(),
            clock: SystemClock(), limits: .standard, randomSeed: 1)
        try await node.start()
        let api = BrokerAPI(node: node, forwarder: Forwarder(pool: HTTPClientPool(threadCount: 1), peers: node.peers), gate: gate, loginWorker: loginWorker)
        return (node, api.makeRouter())
    }

    /// Calls the router in process and awaits the (possibly deferred) response without
    /// blocking a thread; gives up after ~30 s with status 0.
    static func call(_ router: Router, _ method: HTTPMethod, _ target: String, _ body: String? = nil, token: String? = nil) async -> (Int, JSONValue?) {
        var headers = HTTPHeaders()
        if let token { headers.set(name: "Authorization", value: "Bearer \(token)") }
        if body != nil { headers.set(name: "Content-Type", value: "application/json") }
        let request = HTTPRequest(method: method, target: target, headers: headers, body: Array((body ?? "").utf8))
        let box = ResponseSlot()
        router.handle(request, responder: HTTPResponder { box.put($0) })
        guard let response = await box.take(timeoutMilliseconds: 30_000) else { return (0, nil) }
        return (response.status.code, try? JSONValue(parsing: response.body))
    }

    /// Waits until the node leads `__meta` (a single voter elects itself after one timeout).
    static func waitForMeta(_ node: BrokerNode) async -> Bool {
        await waitUntil { node.host.status(of: MetaStateMachine.group)?.role == .leader }
    }

    /// Polls without blocking a cooperative-pool thread, up to ~30 s.
    static func waitUntil(_ condition: () -> Bool) async -> Bool {
        let clock = SystemClock()
        let deadline = clock.monotonicNanoseconds() + 30_000_000_000
        while clock.monotonicNanoseconds() < deadline {
            if condition() { return true }
            try? await Task.sleep(nanoseconds: 10_000_000)
        }
        return condition()
    }

    /// Waits until `count` groups have a leader.
    static func waitForLeaders(_ node: BrokerNode, count: Int) async -> Bool {
        await waitUntil { node.host.statuses().filter({ $0.role == .leader }).count >= count }
    }

    @Test func createProduceFetch() async throws {
        let (node, router) = try await Self.startNode()
        #expect(await Self.waitForMeta(node))
        let (created, topic) = await Self.call(router, .post, "/v1/topics", #"{"name":"orders","partitions":2,"replication_factor":1}"#)
        #expect(created == 201, "create: \(String(describing: topic))")
        #expect(await Self.call(router, .post, "/v1/topics", #"{"name":"orders","partitions":2,"replication_factor":1}"#).0 == 409)

        // Partition groups start after the catalog applies; wait for their leaders.
        #expect(await SingleNodeTests.waitForLeaders(node, count: 3))

        let (produced, offsets) = await Self.call(router, .post, "/v1/topics/orders/records",
            #"{"records":[{"value":"a","partition":0},{"value":"b","partition":1},{"key":"k","value":"c","partition":0}]}"#)
        #expect(produced == 200, "produce: \(String(describing: offsets))")
        let list = try #require(offsets?["offsets"]?.arrayValue)
        #expect(list.map { $0["partition"]?.int64Value } == [0, 1, 0])

        let (fetched, page) = await Self.call(router, .get, "/v1/topics/orders/partitions/0/records?offset=0")
        #expect(fetched == 200)
        let values = page?["records"]?.arrayValue?.compactMap { $0["value"]?.stringValue }
        #expect(values == ["a", "c"])
        let next = try #require(page?["next_offset"]?.uint64Value)
        #expect(page?["high_watermark"]?.uint64Value == next)
        // local=true reads this replica itself (the chaos checker's per-replica read).
        let local = await Self.call(router, .get, "/v1/topics/orders/partitions/0/records?offset=0&local=true")
        #expect(local.0 == 200)
        #expect(local.1?["records"]?.arrayValue?.compactMap { $0["value"]?.stringValue } == ["a", "c"])

        // Past the high watermark: 416 with both bounds in the message.
        #expect(await Self.call(router, .get, "/v1/topics/orders/partitions/0/records?offset=\(next + 5)").0 == 416)
        // At the high watermark with wait_ms: an empty page once the wait runs out.
        let (waited, empty) = await Self.call(router, .get, "/v1/topics/orders/partitions/0/records?offset=\(next)&wait_ms=50")
        #expect(waited == 200)
        #expect(empty?["records"]?.arrayValue?.isEmpty == true)
        #expect(await Self.call(router, .get, "/v1/topics/missing/partitions/0/records?offset=0").0 == 404)
        await node.stop()
    }

    @Test func idempotentRetryReturnsTheOriginalOffsets() async throws {
        let (node, router) = try await Self.startNode()
        #expect(await Self.waitForMeta(node))
        #expect(await Self.call(router, .post, "/v1/topics", #"{"name":"t","partitions":1}"#).0 == 201)
        #expect(await SingleNodeTests.waitForLeaders(node, count: 2))
        let body = #"{"producer_id":7,"sequence":1,"records":[{"value":"x"},{"value":"y"}]}"#
        let first = await Self.call(router, .post, "/v1/topics/t/records", body)
        let second = await Self.call(router, .post, "/v1/topics/t/records", body)
        #expect(first.0 == 200)
        #expect(second.0 == 200)
        #expect(first.1 == second.1, "a retry returns the original offsets")
        let page = await Self.call(router, .get, "/v1/topics/t/partitions/0/records?offset=0").1
        #expect(page?["records"]?.arrayValue?.count == 2, "the retry wrote nothing new")
        await node.stop()
    }
}

@Suite struct PartitionRouteTests {
    /// A forwarded share keeps its records' positions in the original request; the answer must
    /// still come back in the share's own order (this crashed a node once).
    @Test func forwardedShareWithOriginalPositions() async throws {
        let (node, router) = try await SingleNodeTests.startNode()
        #expect(await SingleNodeTests.waitForMeta(node))
        #expect(await SingleNodeTests.call(router, .post, "/v1/topics", #"{"name":"p","partitions":2}"#).0 == 201)
        #expect(await SingleNodeTests.waitForLeaders(node, count: 3))
        let (status, body) = await SingleNodeTests.call(router, .post, "/v1/topics/p/partitions/1/records",
            #"{"records":[{"position":3,"value_base64":"eA=="},{"position":7,"value":"y"}]}"#)
        #expect(status == 200, "\(String(describing: body))")
        let offsets = body?["offsets"]?.arrayValue?.compactMap { $0["offset"]?.uint64Value }
        #expect(offsets?.count == 2)
        #expect(body?["offsets"]?.arrayValue?.allSatisfy { $0["partition"]?.int64Value == 1 } == true)
        await node.stop()
    }
}

/// One response, handed from whichever thread responds to the awaiting test.
final class ResponseSlot: @unchecked Sendable {
    private let lock = ConditionMutex()
    private var response: HTTPResponse?

    func put(_ value: HTTPResponse) { lock.withLock { response = value } }

    func take(timeoutMilliseconds: UInt64) async -> HTTPResponse? {
        let clock = SystemClock()
        let deadline = clock.monotonicNanoseconds() + timeoutMilliseconds * 1_000_000
        while clock.monotonicNanoseconds() < deadline {
            if let value = lock.withLock({ response }) { return value }
            try? await Task.sleep(nanoseconds: 1_000_000)
        }
        return lock.withLock { response }
    }
}

@Suite struct MembershipReconcilerTests {
    /// The `__meta` leader creates every group's record in the coordinator; each group's leader
    /// then keeps it equal to its Raft configuration, fixing a record that drifted.
    @Test func catalogGroupsReachTheCoordinator() async throws {
        let (node, router) = try await SingleNodeTests.startNode()
        #expect(await SingleNodeTests.waitForMeta(node))
        #expect(await SingleNodeTests.call(router, .post, "/v1/topics", #"{"name":"z","partitions":2}"#).0 == 201)
        let catalogGroups = node.meta.current.groups.map(\.group)
        #expect(catalogGroups.count == 2)
        await MembershipReconciler.reconcile(node)
        let recorded = try await node.coordinator.groups()
        #expect(Set(recorded) == Set(catalogGroups + [GroupID(0)]))
        for group in catalogGroups {
            #expect(try await node.coordinator.membership(of: group).membership.replicas == [NodeID(1)])
        }
        // A record that drifted (an operator's edit) is put back by the group leader's report.
        let drifted = try await node.coordinator.membership(of: catalogGroups[0])
        _ = try await node.coordinator.compareAndSetMembership(
            GroupMembership(replicas: [NodeID(9)], epoch: drifted.membership.epoch), for: catalogGroups[0], expectedVersion: drifted.version)
        let status = try #require(node.host.status(of: catalogGroups[0]))
        await GroupMembershipDriver(node: node).report(status, preferredOrder: [NodeID(1)])
        let repaired = try await node.coordinator.membership(of: catalogGroups[0])
        #expect(repaired.membership.replicas == [NodeID(1)])
        #expect(repaired.membership.epoch > drifted.membership.epoch)

        // A record claiming a newer configuration (a larger epoch than this leader's
        // configuration index) is left alone: it may come from a newer leader.
        let newer = try await node.coordinator.compareAndSetMembership(
            GroupMembership(replicas: [NodeID(1), NodeID(5)], epoch: 1_000), for: catalogGroups[0], expectedVersion: repaired.version)
        await GroupMembershipDriver(node: node).report(status, preferredOrder: [NodeID(1)])
        #expect(try await node.coordinator.membership(of: catalogGroups[0]) == newer)
        await node.stop()
    }

    /// A registered node outside `--meta-replicas` becomes a `__meta` learner, so it follows
    /// the catalog; the record of `__meta` then lists it.
    @Test func aNewLiveNodeJoinsMetaAsALearner() async throws {
        let store = InMemoryCoordinationStore()
        let other = InMemoryCoordinator(store: store)
        let (node, _) = try await SingleNodeTests.startNode(coordinator: InMemoryCoordinator(store: store))
        #expect(await SingleNodeTests.waitForMeta(node))
        try await other.register(NodeID(2), at: NodeRegistration(http: "127.0.0.1:1", raft: "127.0.0.1:1"))
        #expect(await SingleNodeTests.waitUntil { node.peers.live[NodeID(2)] != nil })
        await MembershipReconciler.reconcile(node)
        #expect(await SingleNodeTests.waitUntil { node.host.status(of: MetaStateMachine.group)?.learners == [NodeID(2)] })
        #expect(node.host.status(of: MetaStateMachine.group)?.voters == [NodeID(1)])
        let status = try #require(node.host.status(of: MetaStateMachine.group))
        await GroupMembershipDriver(node: node).report(status, preferredOrder: [NodeID(1)])
        let record = try await node.coordinator.membership(of: MetaStateMachine.group).membership
        #expect(record.replicas == [NodeID(1)] && record.learners == [NodeID(2)])
        await node.stop()
        withExtendedLifetime(other) {}
    }
}
