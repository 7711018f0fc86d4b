import Coordination
import Glibc
import HTTPServer
import MOMCore
import Raft
import Replication
import SystemIO
import Testing
import TestSupport
@testable import Broker

/// Three nodes in one process with the real TCP transport and real HTTP servers (forwarding
/// goes over sockets), memory logs and a shared in-memory coordinator. Lets a test place a
/// queue on a chosen node — queues have no REST routes on this branch — and publish to it
/// through another node.
final class InProcessCluster: @unchecked Sendable {
    struct Member {
        let node: BrokerNode
        let router: Router
        let server: HTTPServer
        let pool: HTTPClientPool
        let relay: NodeRelay
        let stopLink: @Sendable () -> Void
    }

    private(set) var members: [Member] = []

    static func start(size: Int = 3, transportThread: NodeConfig.TransportThread = .shared) async throws -> InProcessCluster {
        let cluster = InProcessCluster()
        let store = InMemoryCoordinationStore()
        let ports = try TestPorts.take(2 * size)
        let replicas = (1...size).map(String.init).joined(separator: ",")
        for id in 1...size {
            let config = try NodeConfig.parse(arguments: [
                "--node-id", "\(id)", "--data-dir", "/nonexistent", "--meta-replicas", replicas, "--tick-ms", "20",
                "--http-listen", "127.0.0.1:\(ports[2 * id - 2])", "--raft-listen", "127.0.0.1:\(ports[2 * id - 1])",
                "--transport-thread", transportThread.rawValue,
            ])
            let relay = LinkRelay()
            let node = BrokerNode(config: config, coordinator: InMemoryCoordinator(store: store), link: relay, logFactory: MemoryGroupLogFactory(),
                                  clock: SystemClock(), limits: .standard, randomSeed: UInt64(id))
            let nodeRelay = NodeRelay(limits: .standard, clock: SystemClock())
            let link = try NodeServer.tcpLink(config, node.host, relay: nodeRelay)
            relay.target = link.link
            node.onPeersChanged = link.updatePeers
            try await node.start()
            let pool = HTTPClientPool(threadCount: 2, timeoutMilliseconds: 35_000)
            let api = BrokerAPI(node: node, forwarder: Forwarder(pool: pool, peers: node.peers, relay: nodeRelay), gate: AuthGate(verifier: nil), loginWorker: nil)
            let router = api.makeRouter()
            nodeRelay.serve { request, responder in router.handle(request, responder: responder) }
            nodeRelay.startSweeping()
            let server = HTTPServer(configuration: HTTPServerConfiguration(address: config.httpListen, limits: .standard, clock: SystemClock()), router: router)
            _ = try server.start()
            cluster.members.append(Member(node: node, router: router, server: server, pool: pool, relay: nodeRelay, stopLink: link.stop))
        }
        return cluster
    }

    /// Starts a cluster, runs `body`, and stops the cluster whether `body` threw or not.
    static func run(transportThread: NodeConfig.TransportThread = .shared, _ body: (InProcessCluster) async throws -> Void) async throws {
        let cluster = try await start(transportThread: transportThread)
        do {
            try await body(cluster)
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }

    func node(_ id: Int) -> BrokerNode { members[id - 1].node }
    func router(_ id: Int) -> Router { members[id - 1].router }
    func relay(_ id: Int) -> NodeRelay { members[id - 1].relay }

    /// The `__meta` leader, once every node knows it (bounded).
    func metaLeader() async -> BrokerNode? {
        _ = await SingleNodeTests.waitUntil {
            let leaders = Set(members.compactMap { $0.node.host.status(of: MetaStateMachine.group)?.leader })
            return leaders.count == 1 && members.allSatisfy { $0.node.host.status(of: MetaStateMachine.group)?.leader != nil }
        }
        return members.first { $0.node.host.status(of: MetaStateMachine.group)?.role == .leader }?.node
    }

    /// Proposes a catalog command on the meta leader and waits until every node applied it.
    func propose(_ command: CatalogCommand, until applied: @escaping (Catalog) -> Bool) async -> Bool {
        guard let leader = await metaLeader() else { return false }
        leader.host.propose(MetaStateMachine.group, entries: [command.encoded()]) { _ in }
        return await SingleNodeTests.waitUntil { self.members.allSatisfy { applied($0.node.meta.current) } }
    }

    func stop() async {
        for member in members {
            await member.node.stop()
            member.relay.stop()
            member.server.shutdown(graceMilliseconds: 500)
            member.stopLink()
            member.pool.shutdown()
            await member.node.coordinator.close()
        }
    }
}

@Suite(.serialized) struct InProcessClusterTests {
    /// A topic led by node 1 and a queue led by node 3, bound to one exchange; publishing
    /// through node 2 (which hosts neither) forwards each share to its leader over the node link, and
    /// every copy is in the leader's log at the offset the answer gives.
    /// Both ways of running the transport: on the replication loop's thread (the default) and on
    /// a thread of its own.
    @Test(arguments: [NodeConfig.TransportThread.shared, .own])
    func publishThroughNode2ReachesATopicAndAQueueLedElsewhere(transportThread: NodeConfig.TransportThread) async throws {
        try await InProcessCluster.run(transportThread: transportThread) { cluster in
            #expect(await cluster.metaLeader() != nil)
            let topic = CatalogCommand.createTopic(CreateTopic(
                name: "orders", partitions: 1, replicationFactor: 1, retentionMilliseconds: nil, retentionBytes: nil, replicas: [[NodeID(1)]]))
            #expect(await cluster.propose(topic) { $0.topic("orders") != nil })
            let queue = CatalogCommand.createQueue(CreateQueue(
                name: "work", partitions: 2, replicationFactor: 1, ackTimeoutMilliseconds: 30_000, maxDeliveries: nil,
                replicas: [[NodeID(3)], [NodeID(3)]], deadLetterReplicas: []))
            #expect(await cluster.propose(queue) { $0.queue("work") != nil })
            let catalog = cluster.node(2).meta.current
            let topicGroup = try #require(catalog.topic("orders")?.partitions.first?.group)
            let queueGroups = try #require(catalog.queue("work")?.partitions.map(\.group))
            #expect(await SingleNodeTests.waitUntil { cluster.node(1).host.status(of: topicGroup)?.role == .leader })
            #expect(await SingleNodeTests.waitUntil { queueGroups.allSatisfy { cluster.node(3).host.status(of: $0)?.role == .leader } })
            #expect(cluster.node(2).host.status(of: topicGroup) == nil && queueGroups.allSatisfy { cluster.node(2).host.status(of: $0) == nil },
                    "node 2 hosts neither destination")

            // Admin calls through node 2 are forwarded to the meta leader.
            let router = cluster.router(2)
            #expect(await SingleNodeTests.call(router, .post, "/v1/exchanges", #"{"name":"events","type":"direct"}"#).0 == 201)
            #expect(await SingleNodeTests.call(router, .post, "/v1/exchanges/events/bindings", #"{"destination":"orders","destination_type":"topic","binding_key":"new"}"#).0 == 201)
            #expect(await SingleNodeTests.call(router, .post, "/v1/exchanges/events/bindings", #"{"destination":"work","destination_type":"queue","binding_key":"new"}"#).0 == 201)
            #expect(await SingleNodeTests.waitUntil { cluster.node(2).meta.current.bindings(exchange: "events")?.count == 2 })

            // Each relay probes a peer once per connection before it sends it writes.
            for (from, to) in [(2, 1), (2, 3), (3, 1)] {
                #expect(await SingleNodeTests.waitUntil {
                    cluster.relay(from).probe(NodeID(UInt64(to)))
                    return cluster.relay(from).isCapable(of: NodeID(UInt64(to)))
                }, "node \(from) may relay to node \(to)")
            }
            let (status, body) = await SingleNodeTests.call(router, .post, "/v1/exchanges/events/publish",
                #"{"producer_id":3,"sequence":1,"messages":[{"routing_key":"new","value":"m0"},{"routing_key":"old","value":"m1"},{"routing_key":"new","key":"k","value":"m2"}]}"#)
            #expect(status == 200, "\(String(describing: body))")
            let results = try #require(body?["results"]?.arrayValue)
            #expect(results.map { $0["routed"]?.arrayValue?.compactMap { $0["destination"]?.stringValue } ?? [] } == [["orders", "work"], [], ["orders", "work"]])
            for (index, value) in [(0, "m0"), (2, "m2")] {
                for copy in results[index]["routed"]?.arrayValue ?? [] {
                    let offset = try #require(copy["offset"]?.uint64Value)
                    let partition = Int(try #require(copy["partition"]?.int64Value))
                    let isQueue = copy["destination_type"]?.stringValue == "queue"
                    let leader = isQueue ? cluster.node(3) : cluster.node(1)
                    let group = isQueue ? queueGroups[partition] : topicGroup
                    let record = await ExchangeRouteTests.record(leader, group: group, offset: offset)
                    #expect(record.map { String(decoding: $0.value, as: UTF8.self) } == value, "\(isQueue ? "work" : "orders")/\(partition)@\(offset)")
                }
            }
            // A retry through another node answers the same offsets (dedup on the leaders).
            let retry = await SingleNodeTests.call(cluster.router(3), .post, "/v1/exchanges/events/publish",
                #"{"producer_id":3,"sequence":1,"messages":[{"routing_key":"new","value":"m0"},{"routing_key":"old","value":"m1"},{"routing_key":"new","key":"k","value":"m2"}]}"#)
            #expect(retry.0 == 200 && retry.1 == body)
            // The shares rode the node link (NodeRelay), not a second HTTP connection: node 2
            // sent the topic's share to node 1 and one per queue partition to node 3; node 3,
            // on the retry, the topic's share to node 1. (Admin calls went over HTTP.)
            let relayed = cluster.relay(2).statistics()
            #expect(relayed.relayed >= 2 && relayed.answered == relayed.relayed, "\(relayed)")
            #expect(cluster.relay(3).statistics().answered == 1)
            #expect(cluster.relay(1).statistics().served == 2)
            #expect(cluster.relay(3).statistics().served == relayed.relayed - 1)
        }
    }

    /// A node that replicates none of a topic's partitions still names every partition's leader
    /// and bounds: it asks the leaders (before, it answered `"leader": null` for them).
    @Test func describeThroughANodeWithoutReplicasNamesEveryLeader() async throws {
        try await InProcessCluster.run { cluster in
            #expect(await cluster.metaLeader() != nil)
            let topic = CatalogCommand.createTopic(CreateTopic(
                name: "spread", partitions: 2, replicationFactor: 1, retentionMilliseconds: nil, retentionBytes: nil,
                replicas: [[NodeID(1)], [NodeID(3)]]))
            #expect(await cluster.propose(topic) { $0.topic("spread") != nil })
            let groups = try #require(cluster.node(2).meta.current.topic("spread")?.partitions.map(\.group))
            #expect(await SingleNodeTests.waitUntil { cluster.node(1).host.status(of: groups[0])?.role == .leader })
            #expect(await SingleNodeTests.waitUntil { cluster.node(3).host.status(of: groups[1])?.role == .leader })
            let (status, body) = await SingleNodeTests.call(cluster.router(2), .get, "/v1/topics/spread")
            #expect(status == 200, "\(String(describing: body))")
            let partitions = try #require(body?["partitions"]?.arrayValue)
            #expect(partitions.map { $0["leader"]?.uint64Value } == [1, 3])
            #expect(partitions.allSatisfy { $0["high_watermark"]?.uint64Value != nil && $0["log_start_offset"]?.uint64Value != nil })
        }
    }
}
