import Auth
import HTTPServer
import MOMCore
import Replication
import SystemIO

/// `POST/GET/DELETE /v1/queues…`: catalog changes go through the `__meta` leader (a queue with
/// `max_deliveries` gets `<q>.dead-letter` in the same command); the counters come from the
/// partitions' replicated claim/ack state, read on a replica of each partition.
extension BrokerAPI {
    func registerQueueAdmin(_ router: inout Router) {
        router.add(.post, "/v1/queues", action: .manageQueues, gate: gate) { request, responder in self.createQueue(request, responder) }
        router.add(.get, "/v1/queues", action: .describe, gate: gate) { _, responder in responder.send(self.listQueues()) }
        router.add(.get, "/v1/queues/{q}", action: .describe, gate: gate) { request, responder in self.describeQueue(request, responder) }
        router.add(.delete, "/v1/queues/{q}", action: .manageQueues, gate: gate) { request, responder in
            let name = request.pathParameter("q") ?? ""
            self.proposeCatalog(.deleteQueue(name: name), request: request, responder: responder) { _ in HTTPResponse(status: .noContent) }
        }
        router.add(.get, "/v1/queues/{q}/partitions/{p}", action: .describe, gate: gate) { request, responder in
            self.describePartition(request, responder)
        }
    }

    private func createQueue(_ request: HTTPRequest, _ responder: HTTPResponder) {
        guard metaLeaderOrForward(request, responder) != nil else { return }
        do {
            let body = try RequestJSON.object(request, limits: limits)
            let name = try RequestJSON.string(body, "name") ?? ""
            let live = node.peers.live.keys.sorted()
            let partitions = Int(try RequestJSON.integer(body, "partitions", range: 1...Int64(limits.partitionsPerResourceMax), default: 3)!)
            // The contract's default is 3 replicas; a smaller cluster (standalone) gets all it has.
            let defaultFactor = Int64(max(1, min(3, live.count)))
            let factor = Int(try RequestJSON.integer(body, "replication_factor", range: 1...Int64(limits.replicationFactorMax), default: defaultFactor)!)
            let ackTimeout = UInt64(try RequestJSON.integer(
                body, "ack_timeout_ms", range: 1...Int64(limits.queueAckTimeoutMillisecondsMax),
                default: Int64(CreateQueue.defaultAckTimeoutMilliseconds))!)
            let maxDeliveries = try RequestJSON.integer(body, "max_deliveries", range: 1...Int64(limits.queueMaxDeliveriesMax)).map { Int($0) }
            let catalog = node.meta.current
            var load = Placement.load(of: catalog.groups)
            let replicas = try Placement.assign(partitions: partitions, replicationFactor: factor, liveNodes: live, existingLoad: load, limits: limits)
            var deadLetterReplicas: [[NodeID]] = []
            if maxDeliveries != nil {
                for nodes in replicas {
                    for (index, replica) in nodes.enumerated() {
                        load[replica, default: NodeLoad()].replicas += 1
                        if index == 0 { load[replica, default: NodeLoad()].leaders += 1 }
                    }
                }
                deadLetterReplicas = try Placement.assign(partitions: partitions, replicationFactor: factor, liveNodes: live, existingLoad: load, limits: limits)
            }
            let command = CatalogCommand.createQueue(CreateQueue(
                name: name, partitions: partitions, replicationFactor: factor, ackTimeoutMilliseconds: ackTimeout,
                maxDeliveries: maxDeliveries, replicas: replicas, deadLetterReplicas: deadLetterReplicas))
            try catalog.validate(command)
            // Answer once the new partitions hosted here have leaders (bounded), so the first
            // send finds them ready.
            let deferred = HTTPResponder { response in
                guard response.status.code == 201, let queue = self.node.meta.current.queue(name) else { return _ = responder.send(response) }
                let deadLetterGroups = queue.deadLetterQueue.flatMap { self.node.meta.current.queue($0) }?.partitions ?? []
                let hostedHere = (queue.partitions + deadLetterGroups).filter { $0.replicas.contains(self.node.config.nodeID) }.map(\.group)
                self.awaitLeaders(of: hostedHere, timeoutMilliseconds: self.leaderWaitMilliseconds) {
                    responder.send(.json(.created, bytes: self.queueJSON(queue, statistics: nil)))
                }
            }
            proposeCatalog(command, request: request, responder: deferred) { _ in HTTPResponse(status: .created) }
        } catch {
            responder.send(routeError: error)
        }
    }

    private func listQueues() -> HTTPResponse {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("queues")
        writer.beginArray()
        for queue in node.meta.current.queues { writer.string(queue.name) }
        writer.endArray()
        writer.endObject()
        return .json(bytes: writer.bytes)
    }

    private func describeQueue(_ request: HTTPRequest, _ responder: HTTPResponder) {
        do {
            let queue = try queueOrError(request)
            let collector = StatisticsCollector(count: queue.partitions.count) { result in
                switch result {
                case .success(let statistics): responder.send(.json(bytes: self.queueJSON(queue, statistics: statistics)))
                case .failure(let error): responder.send(error: error)
                }
            }
            for partition in queue.partitions.indices {
                statistics(of: queue, partition: partition, original: request) { collector.deliver(partition, $0) }
            }
        } catch {
            responder.send(error: error)
        }
    }

    /// One partition's counters from this node's replica, or from a replica elsewhere.
    private func statistics(
        of queue: QueueConfig, partition: Int, original: HTTPRequest,
        completion: @escaping @Sendable (Result<QueuePartitionStatistics, HTTPError>) -> Void
    ) {
        let placement = queue.partitions[partition]
        if node.host.status(of: placement.group) != nil {
            return node.queueStatistics(group: placement.group) { statistics in
                completion(statistics.map { .success($0) } ?? .failure(.serviceUnavailable("partition \(partition) is not served here yet; retry", code: "unavailable")))
            }
        }
        let target = node.host.status(of: placement.group)?.leader ?? placement.replicas.first { $0 != node.config.nodeID }
        guard let target else {
            return completion(.failure(.serviceUnavailable("partition \(partition) of queue '\(queue.name)' is not served yet; retry", code: "unavailable")))
        }
        var headers = Self.forwardedHeaders(original)
        headers.remove(name: "Content-Type")
        let request = HTTPRequest(method: .get, target: "/v1/queues/\(queue.name)/partitions/\(partition)", headers: headers)
        forwarder.forward(request, to: target, responder: HTTPResponder { response in
            guard response.status.code == 200 else { return completion(.failure(QueueWire.upstreamError(response))) }
            let json = try? JSONValue(parsing: response.body)
            guard let depth = json?["depth"]?.uint64Value, let inFlight = json?["in_flight"]?.uint64Value,
                  let deadLettered = json?["dead_lettered"]?.uint64Value, let acknowledged = json?["acknowledged"]?.uint64Value else {
                return completion(.failure(.serviceUnavailable("a replica's answer was malformed; retry", code: "forward_failed")))
            }
            completion(.success(QueuePartitionStatistics(depth: depth, inFlight: inFlight, deadLettered: deadLettered, acknowledged: acknowledged)))
        })
    }

    private func describePartition(_ request: HTTPRequest, _ responder: HTTPResponder) {
        do {
            let queue = try queueOrError(request)
            let partition = try Self.partitionNumber(request, of: queue)
            statistics(of: queue, partition: partition, original: request) { result in
                switch result {
                case .success(let statistics):
                    var writer = JSONWriter()
                    writer.beginObject()
                    writer.field("partition", partition)
                    Self.writeCounters(statistics, into: &writer)
                    writer.endObject()
                    responder.send(.json(bytes: writer.bytes))
                case .failure(let error):
                    responder.send(error: error)
                }
            }
        } catch {
            responder.send(error: error)
        }
    }

    static func writeCounters(_ statistics: QueuePartitionStatistics, into writer: inout JSONWriter) {
        writer.field("depth", statistics.depth)
        writer.field("in_flight", statistics.inFlight)
        writer.field("dead_lettered", statistics.deadLettered)
        writer.field("acknowledged", statistics.acknowledged)
    }

    /// A queue's description; with `statistics` (one per partition), its counters too.
    func queueJSON(_ queue: QueueConfig, statistics: [QueuePartitionStatistics]?) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("name", queue.name)
        if let statistics { Self.writeCounters(statistics.reduce(QueuePartitionStatistics(), +), into: &writer) }
        writer.field("replication_factor", queue.replicationFactor)
        writer.field("ack_timeout_ms", queue.ackTimeoutMilliseconds)
        writer.key("max_deliveries")
        if let maxDeliveries = queue.maxDeliveries { writer.integer(maxDeliveries) } else { writer.null() }
        writer.key("dead_letter_queue")
        if let name = queue.deadLetterQueue { writer.string(name) } else { writer.null() }
        if let source = queue.deadLetterSource { writer.field("dead_letter_source", source) }
        writer.key("partitions")
        writer.beginArray()
        for (index, placement) in queue.partitions.enumerated() {
            writer.beginObject()
            writer.field("partition", Int(placement.partition.rawValue))
            writer.key("leader")
            if let leader = node.host.status(of: placement.group)?.leader { writer.unsigned(leader.rawValue) } else { writer.null() }
            writer.key("replicas")
            writer.beginArray()
            for replica in placement.replicas { writer.unsigned(replica.rawValue) }
            writer.endArray()
            if let statistics { Self.writeCounters(statistics[index], into: &writer) }
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }
}

/// Gathers per-partition counters and answers once, in partition order.
final class StatisticsCollector: @unchecked Sendable {
    private let lock = ConditionMutex()
    private var slots: [QueuePartitionStatistics?]
    private var remaining: Int
    private var done = false
    private let completion: @Sendable (Result<[QueuePartitionStatistics], HTTPError>) -> Void

    init(count: Int, completion: @escaping @Sendable (Result<[QueuePartitionStatistics], HTTPError>) -> Void) {
        slots = Array(repeating: nil, count: count)
        remaining = count
        self.completion = completion
    }

    func deliver(_ partition: Int, _ result: Result<QueuePartitionStatistics, HTTPError>) {
        let finished: Result<[QueuePartitionStatistics], HTTPError>? = lock.withLock {
            guard !done else { return nil }
            switch result {
            case .failure(let error):
                done = true
                return .failure(error)
            case .success(let statistics):
                if slots[partition] == nil { remaining -= 1 }
                slots[partition] = statistics
                guard remaining == 0 else { return nil }
                done = true
                return .success(slots.compactMap { $0 })
            }
        }
        if let finished { completion(finished) }
    }
}
