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
        let filter: FilteringLink
        let stopLink: @Sendable () -> Void
    }

    private(set) var members: [Member] = []

    static func start(
        size: Int = 3, transportThread: NodeConfig.TransportThread = .shared, httpThread: NodeConfig.HTTPThread = .shared
    ) async throws -> InProcessCluster {
        let cluster = InProcessCluster()
        let store = InMemoryCoordinationStore()
        let ports = try TestPorts.take(2 * size)
        let replicas = (1...size).map(String.init).joined(separator: ",")
        for id in 1...size {
            let config = try NodeConfig.parse(arguments: [
                "--node-id", "\(id)", "--data-dir", "/nonexistent", "--meta-replicas", replicas, "--tick-ms", "20",
                "--http-listen", "127.0.0.1:\(ports[2 * id - 2])", "--raft-listen", "127.0.0.1:\(ports[2 * id - 1])",
                "--transport-thread", transportThread.rawValue, "--http-thread", httpThread.rawValue,
            ])
            let relay = LinkRelay()
            let node = BrokerNode(config: config, coordinator: InMemoryCoordinator(store: store), link: relay, logFactory: MemoryGroupLogFactory(),
                                  clock: SystemClock(), limits: .standard, randomSeed: UInt64(id))
            let nodeRelay = NodeRelay(limits: .standard, clock: SystemClock())
            let link = try NodeServer.tcpLink(config, node.host, relay: nodeRelay)
            let filter = FilteringLink(link.link)
            relay.target = filter
            node.onPeersChanged = link.updatePeers
            try await node.start()
            let pool = HTTPClientPool(threadCount: 2, timeoutMilliseconds: 35_000)
            let api = BrokerAPI(node: node, forwarder: Forwarder(pool: pool, peers: node.peers, relay: nodeRelay), gate: AuthGate(verifier: nil), loginWorker: nil)
            let router = api.makeRouter()
            nodeRelay.serve { request, responder in router.handle(request, responder: responder) }
            nodeRelay.startSweeping()
            let server = HTTPServer(configuration: HTTPServerConfiguration(address: config.httpListen, limits: .standard, clock: SystemClock()), router: router)
            _ = try NodeServer.startHTTP(server, config: config, host: node.host)
            cluster.members.append(Member(node: node, router: router, server: server, pool: pool, relay: nodeRelay, filter: filter, stopLink: link.stop))
        }
        return cluster
    }

    /// Starts a cluster, runs `body`, and stops the cluster whether `body` threw or not.
    static func run(
        transportThread: NodeConfig.TransportThread = .shared, httpThread: NodeConfig.HTTPThread = .shared,
        _ body: (InProcessCluster) async throws -> Void
    ) async throws {
        let cluster = try await start(transportThread: transportThread, httpThread: httpThread)
        do {
            try await body(cluster)
        } catch {
            await cluster.stop()
            throw error
        }
        await cluster.stop()
    }

    func node(_ id: Int) -> BrokerNode { members[id - 1].node }
    func httpAddress(_ id: Int) -> SocketAddress? { members[id - 1].server.localAddress }
    func router(_ id: Int) -> Router { members[id - 1].router }
    func relay(_ id: Int) -> NodeRelay { members[id - 1].relay }
    func filter(_ id: Int) -> FilteringLink { members[id - 1].filter }

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

    /// Creates a 1-partition RF3 topic on nodes 1-3 and waits until a follower knows the
    /// leader: the partition's group, its leader, and that follower.
    func createReplicatedTopic(_ name: String) async throws -> (group: GroupID, leader: Int, follower: Int) {
        let topic = CatalogCommand.createTopic(CreateTopic(
            name: name, partitions: 1, replicationFactor: 3, retentionMilliseconds: nil, retentionBytes: nil,
            replicas: [[NodeID(1), NodeID(2), NodeID(3)]]))
        #expect(await propose(topic) { $0.topic(name) != nil })
        let group = try #require(node(1).meta.current.topic(name)?.partitions.first?.group)
        #expect(await SingleNodeTests.waitUntil { (1...3).contains { self.node($0).host.status(of: group)?.role == .leader } })
        let leader = try #require((1...3).first { node($0).host.status(of: group)?.role == .leader })
        let follower = try #require((1...3).first { $0 != leader })
        #expect(await SingleNodeTests.waitUntil { self.node(follower).host.status(of: group)?.leader == NodeID(UInt64(leader)) })
        return (group, leader, follower)
    }

    /// `createReplicatedTopic` with one record, "a", produced through the leader: also the
    /// partition's records path and its high watermark after the record.
    func replicatedTopicWithARecord(_ name: String) async throws -> (group: GroupID, leader: Int, follower: Int, path: String, highWatermark: UInt64) {
        #expect(await metaLeader() != nil)
        let (group, leader, follower) = try await createReplicatedTopic(name)
        let path = "/v1/topics/\(name)/partitions/0/records"
        #expect(await SingleNodeTests.call(router(leader), .post, "/v1/topics/\(name)/records", #"{"records":[{"value":"a"}]}"#).0 == 200)
        let highWatermark = try #require(await SingleNodeTests.call(router(leader), .get, "\(path)?offset=0").1?["high_watermark"]?.uint64Value)
        return (group, leader, follower, path, highWatermark)
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

/// A node's peer link with a switch: drops what it would send to chosen (peer, group) pairs, so a
/// test can leave one replica behind while the other two commit.
final class FilteringLink: PeerLink, @unchecked Sendable {
    private let target: any PeerLink
    private let lock = ConditionMutex()
    private struct Route: Hashable { let peer: NodeID; let group: GroupID }
    private var dropped: Set<Route> = []
    /// Routes whose heartbeats (and responses) are taken out of the node's heartbeat batches too.
    private var droppedHeartbeats: Set<Route> = []

    init(_ target: any PeerLink) { self.target = target }

    /// Heartbeats travel in one batch per peer for every group (HeartbeatBatch): by default they
    /// still flow, so the group keeps its leader; with `heartbeats` the group hears nothing.
    func drop(to peer: NodeID, group: GroupID, _ on: Bool, heartbeats: Bool = false) {
        let route = Route(peer: peer, group: group)
        lock.withLock {
            if on { dropped.insert(route) } else { dropped.remove(route) }
            if on && heartbeats { droppedHeartbeats.insert(route) } else { droppedHeartbeats.remove(route) }
        }
    }

    func send(to peer: NodeID, group: GroupID, payload: [UInt8]) {
        if group == HeartbeatBatch.channel { return sendHeartbeats(to: peer, payload: payload) }
        if lock.withLock({ dropped.contains(Route(peer: peer, group: group)) }) { return }
        target.send(to: peer, group: group, payload: payload)
    }

    private func sendHeartbeats(to peer: NodeID, payload: [UInt8]) {
        let silenced = lock.withLock { Set(droppedHeartbeats.filter { $0.peer == peer }.map(\.group)) }
        guard !silenced.isEmpty, let items = try? HeartbeatBatch.decode(payload, limits: .standard) else {
            return target.send(to: peer, group: HeartbeatBatch.channel, payload: payload)
        }
        let kept = items.filter { !silenced.contains($0.0) }
        if !kept.isEmpty { target.send(to: peer, group: HeartbeatBatch.channel, payload: HeartbeatBatch.encode(kept)) }
    }
}

@Suite(.serialized) struct InProcessClusterTests {
    /// A topic led by node 1 and a queue led by node 3, bound to one exchange; publishing
    /// through node 2 (which hosts neither) forwards each share to its leader over the node link, and
    /// every copy is in the leader's log at the offset the answer gives.
    /// Every way of running the transport and the HTTP server: the transport on the replication
    /// loop's thread (the default) or its own, the HTTP server on its own (the default) or on
    /// the loop's thread as well.
    @Test(arguments: zip([NodeConfig.TransportThread.shared, .own, .shared], [NodeConfig.HTTPThread.own, .own, .shared]))
    func publishThroughNode2ReachesATopicAndAQueueLedElsewhere(transportThread: NodeConfig.TransportThread, httpThread: NodeConfig.HTTPThread) async throws {
        try await InProcessCluster.run(transportThread: transportThread, httpThread: httpThread) { cluster in
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

    /// A follower whose high watermark trails the leader's (it hears nothing of the partition)
    /// is asked for an offset a consumer got from the leader: it passes the fetch to the leader,
    /// which answers the records, instead of answering 416 for an offset that exists (chaos seed
    /// 1515). 416 stays where it is certain: past the leader's log end, and `local=true`.
    @Test func aLaggingFollowerPassesAnOffsetPastItsHighWatermarkToTheLeader() async throws {
        try await InProcessCluster.run { cluster in
            #expect(await cluster.metaLeader() != nil)
            let (group, leader, lagging) = try await cluster.createReplicatedTopic("lag")
            for id in 1...3 { cluster.filter(id).drop(to: NodeID(UInt64(lagging)), group: group, true) }

            let values = (0..<10).map { #"{"value":"r\#($0)"}"# }.joined(separator: ",")
            let produced = await SingleNodeTests.call(cluster.router(leader), .post, "/v1/topics/lag/records", #"{"records":[\#(values)]}"#)
            #expect(produced.0 == 200, "\(String(describing: produced.1))")
            let path = "/v1/topics/lag/partitions/0/records"
            let first = await SingleNodeTests.call(cluster.router(leader), .get, "\(path)?offset=0&max_records=5")
            // A page of 5 entries: the leader's first entry of its term is not a record.
            let read = first.1?["records"]?.arrayValue?.compactMap { $0["value"]?.stringValue } ?? []
            #expect(!read.isEmpty && read == (0..<read.count).map { "r\($0)" })
            let rest = (read.count..<10).map { "r\($0)" }
            let next = try #require(first.1?["next_offset"]?.uint64Value)
            let end = try #require(first.1?["high_watermark"]?.uint64Value)

            // The follower's own log has not committed that far: `local=true` shows it.
            let local = await SingleNodeTests.call(cluster.router(lagging), .get, "\(path)?offset=\(next)&local=true")
            #expect(local.0 == 416, "the replica lags: \(String(describing: local.1))")
            // A plain fetch gets the rest from the leader.
            let passed = await SingleNodeTests.call(cluster.router(lagging), .get, "\(path)?offset=\(next)&max_records=100")
            #expect(passed.0 == 200, "\(String(describing: passed.1))")
            #expect(passed.1?["records"]?.arrayValue?.compactMap { $0["value"]?.stringValue } == rest)
            #expect(passed.1?["high_watermark"]?.uint64Value == end)
            // Past the leader's log end it is out of range, asked on either node.
            for node in [leader, lagging] {
                let beyond = await SingleNodeTests.call(cluster.router(node), .get, "\(path)?offset=\(end + 5)")
                #expect(beyond.0 == 416, "node \(node): \(String(describing: beyond.1))")
                #expect(beyond.1?["error"]?["code"]?.stringValue == "offset_out_of_range")
                #expect(beyond.1?["error"]?["high_watermark"]?.uint64Value == end && beyond.1?["error"]?["log_start_offset"]?.uint64Value == 0,
                        "the bounds, as fields: \(String(describing: beyond.1))")
            }

            // Healed, the follower catches up and serves the offset itself.
            for id in 1...3 { cluster.filter(id).drop(to: NodeID(UInt64(lagging)), group: group, false) }
            #expect(await SingleNodeTests.waitUntil { (cluster.node(lagging).host.status(of: group)?.applied.rawValue ?? 0) >= end })
            let caughtUp = await SingleNodeTests.call(cluster.router(lagging), .get, "\(path)?offset=\(next)&local=true")
            #expect(caughtUp.0 == 200, "\(String(describing: caughtUp.1))")
            #expect(caughtUp.1?["records"]?.arrayValue?.compactMap { $0["value"]?.stringValue } == rest)
        }
    }

    /// The leader holds records it cannot commit yet (its appends to both followers are
    /// dropped): a fetch for an offset among them waits (bounded) and answers an empty page
    /// pointing back at the offset, through the leader or through a follower; `local=true`
    /// answers 416; once the appends flow, a waiting fetch wakes with the records.
    /// With the HTTP server on the replication loop's thread (the default), produces and fetches over real
    /// sockets through the leader and a follower (whose writes are forwarded over the node
    /// link) are answered, in order, with every record where its offset says.
    @Test func produceAndFetchOverHTTPWithTheServerOnTheLoopThread() async throws {
        try await InProcessCluster.run { cluster in
            #expect(await cluster.metaLeader() != nil)
            #expect(cluster.members.allSatisfy { $0.server.isDriven }, "every HTTP server runs on its replication loop's thread")
            let (_, leader, follower) = try await cluster.createReplicatedTopic("looped")
            var offsets: [UInt64] = []
            for (round, node) in [leader, follower, leader, follower].enumerated() {
                let address = try #require(cluster.httpAddress(node))
                let client = try HTTPClient(address: address, timeoutMilliseconds: 10_000)
                let body = #"{"records":[{"value":"r\#(round)a"},{"value":"r\#(round)b"}]}"#
                var headers = HTTPHeaders()
                headers.set(name: "Content-Type", value: "application/json")
                let response = try client.send(.post, "/v1/topics/looped/records", body: Array(body.utf8), headers: headers)
                #expect(response.status == .ok, "node \(node): \(String(decoding: response.body, as: UTF8.self))")
                let answer = try JSONValue(parsing: response.body)
                offsets += answer["offsets"]?.arrayValue?.compactMap { $0["offset"]?.uint64Value } ?? []
            }
            // Consecutive, in request order (the first offset follows the leader's own entry).
            let first = try #require(offsets.first)
            #expect(offsets == Array(first..<first + 8), "\(offsets)")
            for node in [leader, follower] {
                let client = try HTTPClient(address: try #require(cluster.httpAddress(node)), timeoutMilliseconds: 10_000)
                let response = try client.send(.get, "/v1/topics/looped/partitions/0/records?offset=0&wait_ms=2000")
                #expect(response.status == .ok)
                let values = try JSONValue(parsing: response.body)["records"]?.arrayValue?.compactMap { $0["value"]?.stringValue }
                #expect(values == (0..<4).flatMap { ["r\($0)a", "r\($0)b"] }, "node \(node): \(String(describing: values))")
            }
        }
    }

    @Test func anOffsetStoredButNotCommittedOnTheLeaderWaitsForItsCommit() async throws {
        try await InProcessCluster.run { cluster in
            let (group, leader, follower, path, committed) = try await cluster.replicatedTopicWithARecord("pending")

            for peer in (1...3) where peer != leader { cluster.filter(leader).drop(to: NodeID(UInt64(peer)), group: group, true) }
            let stuck = Task { await SingleNodeTests.call(cluster.router(leader), .post, "/v1/topics/pending/records", #"{"records":[{"value":"b"},{"value":"c"},{"value":"d"}]}"#) }
            #expect(await SingleNodeTests.waitUntil {
                guard let status = cluster.node(leader).host.status(of: group) else { return false }
                return status.lastIndex.rawValue >= committed + 3 && status.commit.rawValue == committed
            }, "the leader stored the three records and could not commit them")
            let pending = committed + 1   // past the high watermark, within the leader's log
            for node in [leader, follower] {
                let (status, body) = await SingleNodeTests.call(cluster.router(node), .get, "\(path)?offset=\(pending)&wait_ms=200")
                #expect(status == 200, "node \(node): \(String(describing: body))")
                #expect(body?["records"]?.arrayValue?.isEmpty == true && body?["next_offset"]?.uint64Value == pending
                        && body?["high_watermark"]?.uint64Value == committed, "node \(node): \(String(describing: body))")
            }
            #expect(await SingleNodeTests.call(cluster.router(leader), .get, "\(path)?offset=\(pending)&local=true").0 == 416)

            let waiting = Task { await SingleNodeTests.call(cluster.router(follower), .get, "\(path)?offset=\(pending)&wait_ms=20000") }
            try await Task.sleep(nanoseconds: 300_000_000)
            for peer in (1...3) where peer != leader { cluster.filter(leader).drop(to: NodeID(UInt64(peer)), group: group, false) }
            let (status, body) = await waiting.value
            #expect(status == 200 && body?["records"]?.arrayValue?.compactMap { $0["value"]?.stringValue } == ["c", "d"], "\(String(describing: body))")
            #expect(await stuck.value.0 == 200)
        }
    }

    /// A leader cut off from both followers believes it leads until check-quorum deposes it,
    /// while the others may elect a leader that commits past its log end. Asked for an offset
    /// past its log end meanwhile, it must not answer 416 (a consumer would reset and skip what
    /// the new leader committed): its ReadIndex round fails and it answers 503 `no_leader`. A
    /// leader the others follow passes the round and answers 416; committed records stay
    /// readable on the cut-off node, being final wherever they are read.
    @Test func aLeaderCutOffFromTheOthersDoesNotAnswer416PastItsLogEnd() async throws {
        try await InProcessCluster.run { cluster in
            let (group, leader, _, path, end) = try await cluster.replicatedTopicWithARecord("cutoff")
            // Far enough past the end that no-ops of any elections below do not reach it.
            let beyond = "\(path)?offset=\(end + 1_000)"
            let healthy = await SingleNodeTests.call(cluster.router(leader), .get, beyond)
            #expect(healthy.0 == 416 && healthy.1?["error"]?["code"]?.stringValue == "offset_out_of_range", "\(String(describing: healthy.1))")

            let followers = (1...3).filter { $0 != leader }
            for follower in followers {
                cluster.filter(leader).drop(to: NodeID(UInt64(follower)), group: group, true, heartbeats: true)
                cluster.filter(follower).drop(to: NodeID(UInt64(leader)), group: group, true, heartbeats: true)
            }
            let cutOff = await SingleNodeTests.call(cluster.router(leader), .get, beyond)
            #expect(cutOff.0 == 503 && cutOff.1?["error"]?["code"]?.stringValue == "no_leader", "\(cutOff.0): \(String(describing: cutOff.1))")
            let committed = await SingleNodeTests.call(cluster.router(leader), .get, "\(path)?offset=0")
            #expect(committed.0 == 200 && committed.1?["records"]?.arrayValue?.compactMap { $0["value"]?.stringValue } == ["a"])

            for follower in followers {
                cluster.filter(leader).drop(to: NodeID(UInt64(follower)), group: group, false)
                cluster.filter(follower).drop(to: NodeID(UInt64(leader)), group: group, false)
            }
            // Healed, whichever node leads passes its round again (retried while an election runs).
            var healed = (0, nil as JSONValue?)
            for _ in 0..<100 where healed.0 != 416 {
                healed = await SingleNodeTests.call(cluster.router(leader), .get, beyond)
                if healed.0 != 416 { try await Task.sleep(nanoseconds: 50_000_000) }
            }
            #expect(healed.0 == 416, "\(healed.0): \(String(describing: healed.1))")
        }
    }
}
