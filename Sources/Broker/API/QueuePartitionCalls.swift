import HTTPServer
import MOMCore
import Replication

/// Per-partition queue operations from the node that received the client's request: served
/// here when this node leads the partition, otherwise forwarded to its leader over the
/// internal per-partition routes (with `X-MOM-Hops`, as produce does).
extension BrokerAPI {
    /// The longest a forwarded long-poll holds a forwarding thread: the front polls in slices.
    static let remoteWaitSliceMilliseconds: UInt64 = 250

    func queueOrError(_ request: HTTPRequest) throws(HTTPError) -> QueueConfig {
        let name = request.pathParameter("q") ?? ""
        guard let queue = node.meta.current.queue(name) else {
            throw node.missing(.notFound("queue '\(ResourceName.printable(name))' does not exist; create it with POST /v1/queues"))
        }
        return queue
    }

    /// Where a partition's operation goes: `.local` when this node leads it, else the node to
    /// forward to (its leader, or a replica that may know it), or nil when nobody is known.
    enum PartitionRoute { case local, remote(NodeID), unknown }

    func route(_ placement: PartitionPlacement) -> PartitionRoute {
        let status = node.host.status(of: placement.group)
        if status?.role == .leader { return .local }
        let target = status?.leader ?? placement.replicas.first { $0 != node.config.nodeID }
        guard let target, target != node.config.nodeID else { return .unknown }
        return .remote(target)
    }

    /// Calls `body` with the partition's route, after waiting (bounded) for an election when the
    /// partition is hosted here but has no leader right now (a new queue, a failover).
    func withRoute(_ placement: PartitionPlacement, _ body: @escaping @Sendable (PartitionRoute) -> Void) {
        let status = node.host.status(of: placement.group)
        if status != nil && status?.leader == nil {
            awaitLeaders(of: [placement.group], timeoutMilliseconds: leaderWaitMilliseconds) { body(self.route(placement)) }
        } else {
            body(route(placement))
        }
    }

    /// Headers a forwarded sub-request keeps from the client's request.
    static func forwardedHeaders(_ original: HTTPRequest) -> HTTPHeaders {
        var headers = HTTPHeaders()
        for name in ["Authorization", Forwarder.hopsHeader] {
            if let value = original.headers[name] { headers.set(name: name, value: value) }
        }
        headers.set(name: "Content-Type", value: "application/json")
        return headers
    }

    /// Claims up to `maxMessages` from one partition, waiting up to `waitMilliseconds`.
    func receive(
        from queue: QueueConfig, partition: Int, maxMessages: Int, waitMilliseconds: UInt64, original: HTTPRequest,
        completion: @escaping @Sendable (Result<[ClaimedMessage], HTTPError>) -> Void
    ) {
        let placement = queue.partitions[partition]
        withRoute(placement) { route in
            switch route {
            case .local:
                self.moveExhausted(of: queue, partition: partition)
                self.node.receiveLocally(PartitionReceive(
                    group: placement.group, partition: placement.partition, maxMessages: maxMessages,
                    waitMilliseconds: waitMilliseconds, ackTimeoutMilliseconds: queue.ackTimeoutMilliseconds,
                    maxBytes: self.limits.readBytesMax / 4), completion: completion)
            case .remote(let target):
                var writer = JSONWriter()
                writer.beginObject()
                writer.field("max_messages", maxMessages)
                writer.field("wait_ms", min(waitMilliseconds, Self.remoteWaitSliceMilliseconds))
                writer.endObject()
                let request = HTTPRequest(
                    method: .post, target: "/v1/queues/\(queue.name)/partitions/\(partition)/receive",
                    headers: Self.forwardedHeaders(original), body: writer.bytes)
                self.forwarder.forward(request, to: target, responder: HTTPResponder { response in
                    guard response.status.code == 200 else { return completion(.failure(QueueWire.upstreamError(response))) }
                    guard let messages = QueueWire.messages(from: response.body) else {
                        return completion(.failure(.serviceUnavailable("the partition leader's answer was malformed; retry", code: "forward_failed")))
                    }
                    completion(.success(messages))
                })
            case .unknown:
                completion(.failure(.serviceUnavailable("partition \(partition) of queue '\(queue.name)' has no leader yet; retry", code: "no_leader")))
            }
        }
    }

    /// Acknowledges one partition's receipts; answers with their outcomes in order.
    func ack(
        _ receipts: [QueueReceipt], queue: QueueConfig, partition: Int, original: HTTPRequest,
        completion: @escaping @Sendable (Result<[QueueAckOutcome], HTTPError>) -> Void
    ) {
        let placement = queue.partitions[partition]
        withRoute(placement) { route in
            switch route {
            case .local:
                self.node.ackLocally(group: placement.group, entries: receipts.map(\.ackEntry), completion: completion)
            case .remote(let target):
                var writer = JSONWriter()
                writer.beginObject()
                writer.key("receipts")
                writer.beginArray()
                for receipt in receipts { writer.string(receipt.text) }
                writer.endArray()
                writer.endObject()
                let request = HTTPRequest(
                    method: .post, target: "/v1/queues/\(queue.name)/partitions/\(partition)/ack",
                    headers: Self.forwardedHeaders(original), body: writer.bytes)
                self.forwarder.forward(request, to: target, responder: HTTPResponder { response in
                    guard response.status.code == 200 else { return completion(.failure(QueueWire.upstreamError(response))) }
                    guard let outcomes = QueueAckSummary.outcomes(from: response.body), outcomes.count == receipts.count else {
                        return completion(.failure(.serviceUnavailable("the partition leader's answer was malformed; retry", code: "forward_failed")))
                    }
                    completion(.success(outcomes))
                })
            case .unknown:
                completion(.failure(.serviceUnavailable("partition \(partition) of queue '\(queue.name)' has no leader yet; retry", code: "no_leader")))
            }
        }
    }
}
