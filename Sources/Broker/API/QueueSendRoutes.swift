import Auth
import HTTPServer
import MOMCore
import Replication

/// `POST /v1/queues/{q}/messages`: enqueue. A queue partition is a partition log like a
/// topic's, so a send is a produce: hash(key) or the request's sticky partition picks the
/// partition, the partition's leader appends and answers after commit, producer_id/sequence
/// make retries idempotent. `POST /v1/queues/{q}/partitions/{p}/messages` is the per-partition route a node
/// forwards a share to (and the dead-letter move writes through).
extension BrokerAPI {
    func registerQueueSend(_ router: inout Router) {
        router.add(.post, "/v1/queues/{q}/messages", action: .publish, gate: gate) { request, responder in self.send(request, responder) }
        router.add(.post, "/v1/queues/{q}/partitions/{p}/messages", action: .publish, gate: gate) { request, responder in
            self.sendToPartition(request, responder)
        }
    }

    private func send(_ request: HTTPRequest, _ responder: HTTPResponder) {
        do {
            let queue = try queueOrError(request)
            let roundRobinStart = nextRoundRobin()
            let parsed = try ProduceRequest.parseStreaming(
                request.body, form: .queueSend, partitions: queue.partitions.count, roundRobinStart: roundRobinStart, limits: limits)
                ?? Self.parseQueueSendTree(request, partitions: queue.partitions.count, roundRobinStart: roundRobinStart, limits: limits)
            let collector = OffsetCollector(positions: parsed.items.map(\.position), responder: responder)
            for (partition, items) in ProduceRequest.byPartition(parsed.items) {
                append(items, to: queue, partition: partition, producer: parsed.producer, headers: Self.forwardedHeaders(request)) { result in
                    collector.deliver(result.map { offsets in zip(items, offsets).map { ($0.position, partition, $1) } }.mapError { $0 })
                }
            }
        } catch {
            responder.send(error: error)
        }
    }

    /// A send body through the JSON tree: what the streaming pass leaves, and every error.
    static func parseQueueSendTree(_ request: HTTPRequest, partitions: Int, roundRobinStart: Int, limits: Limits) throws(HTTPError) -> ProduceRequest {
        let body = try RequestJSON.object(request, limits: limits)
        guard let messages = body["messages"]?.arrayValue else { throw HTTPError.badRequest("'messages' must be an array of messages") }
        // Queue messages carry no partition: the broker spreads them.
        let records = messages.map { message -> JSONValue in
            guard case .object(let members) = message else { return message }
            return .object(members.filter { $0.key != "partition" && $0.key != "position" })
        }
        var members = body.objectValue!.filter { $0.key != "messages" && $0.key != "records" }
        members.append((key: "records", value: .array(records)))
        do {
            return try ProduceRequest.parse(.object(members), partitions: partitions, roundRobinStart: roundRobinStart, limits: limits)
        } catch {
            throw HTTPError(error.status, code: error.code, message: error.message.replacingRecords(), headers: error.headers)
        }
    }

    private func sendToPartition(_ request: HTTPRequest, _ responder: HTTPResponder) {
        do {
            let queue = try queueOrError(request)
            let partition = try Self.partitionNumber(request, of: queue)
            // A binary batch (what a forwarding node sends) or the JSON form of one.
            let parsed = try ProduceRequest.parse(request, partitions: queue.partitions.count, roundRobinStart: 0, limits: limits).forcing(partition: partition)
            let collector = OffsetCollector(positions: parsed.items.map(\.position), responder: responder)
            append(parsed.items, to: queue, partition: partition, producer: parsed.producer, headers: Self.forwardedHeaders(request)) { result in
                collector.deliver(result.map { offsets in zip(parsed.items, offsets).map { ($0.position, partition, $1) } }.mapError { $0 })
            }
        } catch {
            responder.send(error: error)
        }
    }

    /// Appends `items` to one queue partition through its leader; one offset per item, in order,
    /// once committed. `headers` carry the caller's authorization and hop count when forwarded.
    func append(
        _ items: [ProduceRequest.Item], to queue: QueueConfig, partition: Int, producer: (id: UInt64, sequence: UInt64)?,
        headers: HTTPHeaders, completion: @escaping @Sendable (Result<[Offset], HTTPError>) -> Void
    ) {
        let placement = queue.partitions[partition]
        withRoute(placement) { route in
            switch route {
            case .local:
                self.node.appendLocally(items, group: placement.group, producer: producer) { result in
                    completion(result.mapError { error in (error as? HTTPError) ?? HTTPError.internalError })
                }
            case .remote(let target):
                var request = ProduceRequest.partitionRequest(items, topic: queue.name, partition: partition, producer: producer, headers: headers)
                request.path = "/v1/queues/\(queue.name)/partitions/\(partition)/messages"
                self.forwarder.forward(request, to: target, responder: HTTPResponder { response in
                    switch ProduceRequest.offsets(from: response, items: items, partition: partition) {
                    case .success(let answers): completion(.success(answers.map(\.offset)))
                    case .failure(let error): completion(.failure((error as? HTTPError) ?? QueueWire.upstreamError(response)))
                    }
                })
            case .unknown:
                completion(.failure(.serviceUnavailable("partition \(partition) of queue '\(queue.name)' has no leader yet; retry", code: "no_leader")))
            }
        }
    }
}

private extension String {
    /// Produce's messages say "records"; a queue's client sent "messages".
    func replacingRecords() -> String {
        replacing("'records'", with: "'messages'").replacing("record ", with: "message ")
    }
}
