import Auth
import HTTPServer
import MOMCore
import Raft
import Replication

/// The per-partition subscription routes, served by the partition's leader (forwarded there by
/// any other node). Cursors are state of the partition's own Raft group, so only its leader —
/// once it has committed an entry of its term (`ReplicationHost.leaderRead`) — knows the latest
/// committed cursor. The whole-topic routes (SubscriptionRoutes.swift) fan out to these.
///
/// - `GET /v1/topics/{t}/partitions/{p}` → `{"partition","leader","log_start_offset","high_watermark"}`
/// - `GET …/subscriptions/{s}/partitions/{p}` → `{"partition","committed_offset","high_watermark","lag"}`
/// - `GET …/subscriptions/{s}/partitions/{p}/records?max_records&max_bytes&wait_ms`
/// - `POST …/subscriptions/{s}/partitions/{p}/commit` with `{"offset"}`
///
/// A forwarded request carries `subscription_id`: a leader whose catalog does not know that
/// incarnation yet answers 503 (retry) rather than 404.
extension BrokerAPI {
    func registerSubscriptionPartitions(_ router: inout Router) {
        router.add(.get, "/v1/topics/{t}/partitions/{p}", action: .describe, gate: gate) { request, responder in
            self.withPartition(request, responder, subscription: false) { topic, _, partition in
                self.partitionBounds(topic, partition: partition, request: request, responder: responder)
            }
        }
        router.add(.get, "/v1/topics/{t}/subscriptions/{s}/partitions/{p}", action: .describe, gate: gate) { request, responder in
            self.withPartition(request, responder) { topic, subscription, partition in
                self.describeCursor(topic, subscription!, partition: partition, request: request, responder: responder)
            }
        }
        router.add(.get, "/v1/topics/{t}/subscriptions/{s}/partitions/{p}/records", action: .read, gate: gate) { request, responder in
            self.withPartition(request, responder) { topic, subscription, partition in
                let read = try SubscriptionRead.parse(request, limits: self.limits)
                self.pollPartition(topic, subscription!, partition: partition, read: read, request: request, responder: responder)
            }
        }
        router.add(.post, "/v1/topics/{t}/subscriptions/{s}/partitions/{p}/commit", action: .commit, gate: gate) { request, responder in
            self.withPartition(request, responder) { topic, subscription, partition in
                let body = try RequestJSON.object(request, limits: self.limits)
                guard let offset = try RequestJSON.integer(body, "offset", range: 0...Int64.max) else { throw HTTPError.badRequest("'offset' is required") }
                self.commitPartition(topic, subscription!, partition: partition, offset: Offset(UInt64(offset)), request: request, responder: responder)
            }
        }
    }

    /// Resolves the path's topic, subscription and partition against this node's catalog and
    /// runs `body`; 404 (or 503 while the catalog catches up) otherwise.
    private func withPartition(
        _ request: HTTPRequest, _ responder: HTTPResponder, subscription wanted: Bool = true,
        _ body: (TopicConfig, SubscriptionConfig?, Int) throws -> Void
    ) {
        do {
            let (topic, subscription) = try resolveSubscription(request, required: wanted)
            guard let partition = request.pathParameter("p").flatMap(Int.init), (0..<topic.partitions.count).contains(partition) else {
                throw HTTPError.notFound("topic '\(topic.name)' has no partition \(request.pathParameter("p") ?? "")")
            }
            try body(topic, subscription, partition)
        } catch {
            responder.send(error: error)
        }
    }

    /// The path's topic and (when `required`) subscription from this node's catalog. With a
    /// `subscription_id` newer than the catalog knows, the catalog is behind: 503, not 404.
    func resolveSubscription(_ request: HTTPRequest, required: Bool = true) throws(HTTPError) -> (TopicConfig, SubscriptionConfig?) {
        let topicName = request.pathParameter("t") ?? ""
        let expectedID = try request.queryInteger("subscription_id")
        let catalog = node.meta.current
        let behind = HTTPError.serviceUnavailable("this node's catalog has not caught up with the subscription yet; retry", code: "metadata_unavailable")
        guard let topic = catalog.topic(topicName) else {
            if expectedID != nil { throw behind }
            throw node.missing(.notFound("topic '\(ResourceName.printable(topicName))' does not exist; create it with POST /v1/topics"))
        }
        guard required else { return (topic, nil) }
        let name = request.pathParameter("s") ?? ""
        guard let subscription = catalog.subscription(topic: topicName, name: name) else {
            if expectedID != nil { throw behind }
            throw node.missing(.notFound("subscription '\(ResourceName.printable(name))' on topic '\(topicName)' does not exist; create it with POST /v1/topics/\(topicName)/subscriptions"))
        }
        if let expectedID, subscription.id < expectedID { throw behind }
        return (topic, subscription)
    }

    /// Runs `body` on the replication loop as the partition's caught-up leader, with the
    /// partition's state machine; forwards to the leader when this node is not it.
    private func asLeader(
        _ topic: TopicConfig, partition: Int, request: HTTPRequest, responder: HTTPResponder,
        _ body: @escaping @Sendable (LeaderReadState, PartitionGroupMachine) -> Void
    ) {
        let placement = topic.partitions[partition]
        dispatchToLeader(placement, request: request, responder: { responder }) {
            self.node.host.leaderRead(placement.group, timeoutMilliseconds: self.leaderWaitMilliseconds) { result in
                switch result {
                case .failure(let error):
                    self.forwardOrFail(request, error, responder: responder)
                case .success(let state):
                    guard let machine = self.node.groups.machine(for: placement.group) else {
                        return _ = responder.send(error: ReplicationError.unknownGroup(placement.group).httpError)
                    }
                    body(state, machine)
                }
            }
        }
    }

    func partitionBounds(_ topic: TopicConfig, partition: Int, request: HTTPRequest, responder: HTTPResponder) {
        asLeader(topic, partition: partition, request: request, responder: responder) { state, _ in
            var writer = JSONWriter()
            writer.beginObject()
            writer.field("partition", partition)
            writer.field("leader", self.node.config.nodeID.rawValue)
            writer.field("log_start_offset", state.firstIndex.rawValue - 1)
            writer.field("high_watermark", state.commit.rawValue)
            writer.endObject()
            responder.send(.json(bytes: writer.bytes))
        }
    }

    func describeCursor(_ topic: TopicConfig, _ subscription: SubscriptionConfig, partition: Int, request: HTTPRequest, responder: HTTPResponder) {
        asLeader(topic, partition: partition, request: request, responder: responder) { state, machine in
            let id = PartitionID(UInt32(partition))
            let highWatermark = Offset(state.commit.rawValue)
            var writer = JSONWriter()
            writer.beginObject()
            writer.field("partition", partition)
            writer.field("committed_offset", machine.state.cursors.position(of: subscription, partition: id).rawValue)
            writer.field("high_watermark", highWatermark.rawValue)
            writer.field("lag", machine.state.cursors.lag(of: subscription, partition: id, highWatermark: highWatermark))
            writer.endObject()
            responder.send(.json(bytes: writer.bytes))
        }
    }

    func commitPartition(
        _ topic: TopicConfig, _ subscription: SubscriptionConfig, partition: Int, offset: Offset, request: HTTPRequest, responder: HTTPResponder
    ) {
        let group = topic.partitions[partition].group
        asLeader(topic, partition: partition, request: request, responder: responder) { state, _ in
            let highWatermark = Offset(state.commit.rawValue)
            let logStart = Offset(state.firstIndex.rawValue - 1)
            guard offset >= logStart && offset <= highWatermark else {
                return _ = responder.send(error: HTTPError.offsetOutOfRange(
                    "commit offset \(offset) of partition \(partition) is outside [\(logStart), \(highWatermark)] (log_start_offset \(logStart), high_watermark \(highWatermark)); commit the next offset to read, at most the high watermark",
                    logStart: logStart.rawValue, highWatermark: highWatermark.rawValue))
            }
            let record = PartitionRecord.subscriptionCommit(SubscriptionCommit(subscription: subscription.name, subscriptionID: subscription.id, offset: offset))
            self.node.host.propose(group, entries: [record.encoded()]) { result in
                switch result {
                case .success:
                    var writer = JSONWriter()
                    writer.beginObject()
                    writer.field("partition", partition)
                    writer.field("offset", offset.rawValue)
                    writer.endObject()
                    responder.send(.json(bytes: writer.bytes))
                case .failure(let error):
                    responder.send(error: error.httpError)
                }
            }
        }
    }

    func pollPartition(
        _ topic: TopicConfig, _ subscription: SubscriptionConfig, partition: Int, read: SubscriptionRead, request: HTTPRequest, responder: HTTPResponder
    ) {
        let group = topic.partitions[partition].group
        asLeader(topic, partition: partition, request: request, responder: responder) { state, machine in
            let cursor = machine.state.cursors.position(of: subscription, partition: PartitionID(UInt32(partition)))
            let logStart = Offset(state.firstIndex.rawValue - 1)
            let highWatermark = Offset(state.commit.rawValue)
            // A cursor below the log start (retention removed records) reads from the log start.
            let start = min(max(cursor, logStart), highWatermark)
            self.fetchVisible(group: group, from: start, read: read, retries: 1) { result in
                switch result {
                case .failure(let error): responder.send(error: error)
                case .success(let page): responder.send(.json(bytes: SubscriptionRead.json(page, partition: partition, committed: cursor)))
                }
            }
        }
    }

    /// Fetches data records from `start`; when only control records (cursor commits) lay there,
    /// fetches once more from past them so a long-poll still waits for data.
    private func fetchVisible(group: GroupID, from start: Offset, read: SubscriptionRead, retries: Int, completion: @escaping @Sendable (Result<FetchPage, HTTPError>) -> Void) {
        let fetch = FetchRequest(group: group, offset: start, maxRecords: read.maxRecords, maxBytes: read.maxBytes, waitMilliseconds: read.waitMilliseconds)
        node.fetch(fetch) { result in
            if case .success(let page) = result, page.records.isEmpty, page.nextOffset > start, retries > 0 {
                return self.fetchVisible(group: group, from: page.nextOffset, read: read, retries: retries - 1, completion: completion)
            }
            completion(result)
        }
    }
}

/// The query of a subscription read, bounded.
struct SubscriptionRead: Sendable {
    let maxRecords: Int
    let maxBytes: Int
    let waitMilliseconds: UInt64

    static let defaultMaxRecords: UInt64 = 100

    static func parse(_ request: HTTPRequest, limits: Limits) throws(HTTPError) -> SubscriptionRead {
        let maxRecords = try request.queryInteger("max_records") ?? defaultMaxRecords
        guard maxRecords >= 1 else { throw .badRequest("'max_records' must be at least 1") }
        let maxBytes = try request.queryInteger("max_bytes") ?? 1 << 20
        guard maxBytes >= 1 else { throw .badRequest("'max_bytes' must be at least 1") }
        return SubscriptionRead(
            maxRecords: Int(min(maxRecords, UInt64(limits.batchRecordsMax))),
            maxBytes: Int(min(maxBytes, UInt64(limits.readBytesMax))),
            waitMilliseconds: min(try request.queryInteger("wait_ms") ?? 0, limits.longPollWaitMillisecondsMax))
    }

    /// One partition's answer: its records (each with partition and offset), where to continue
    /// (`next_offset`, past control records) and the cursor the read started from.
    static func json(_ page: FetchPage, partition: Int, committed: Offset) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 128 + page.records.reduce(0) { $0 + $1.record.value.count + 96 })
        writer.beginObject()
        writer.field("partition", partition)
        writer.key("records")
        writer.beginArray()
        for fetched in page.records {
            writer.beginObject()
            writer.field("partition", partition)
            writer.field("offset", fetched.offset.rawValue)
            writer.recordFields(fetched.record)
            writer.endObject()
        }
        writer.endArray()
        writer.field("next_offset", page.nextOffset.rawValue)
        writer.field("committed_offset", committed.rawValue)
        writer.field("high_watermark", page.highWatermark.rawValue)
        writer.endObject()
        return writer.bytes
    }
}
