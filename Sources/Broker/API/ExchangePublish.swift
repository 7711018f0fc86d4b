import Auth
import HTTPServer
import MOMCore
import Replication
import SystemIO

/// `POST /v1/exchanges/{x}/publish`: route each message by its routing key and append one copy
/// to every destination (topic or queue partition) through the same durable path as a topic
/// produce — the leader's Raft log, acknowledged after a majority fdatasync — forwarding each
/// partition's share to its leader. The answer lists, per message in request order, where
/// every copy landed; an unroutable message gets `routed: []`.
///
/// `POST /v1/internal/{kind}/{name}/partitions/{p}/records` is the node-to-node form of one
/// share (kind `topics` or `queues`), so a queue share can be forwarded without a public
/// per-partition queue route.
extension BrokerAPI {
    func registerPublish(_ router: inout Router) {
        router.add(.post, "/v1/exchanges/{x}/publish", action: .publish, gate: gate) { request, responder in self.publish(request, responder) }
        router.add(.post, "/v1/internal/{kind}/{name}/partitions/{p}/records", action: .publish, gate: gate) { request, responder in
            self.appendShareRequest(request, responder)
        }
    }

    private func publish(_ request: HTTPRequest, _ responder: HTTPResponder) {
        do {
            let name = request.pathParameter("x") ?? ""
            let catalog = node.meta.current
            guard let exchange = catalog.exchange(name) else { throw node.missing(Catalog.exchangeMissing(name).httpError) }
            let parsed = try PublishRequest.parseStreaming(request.body, limits: limits) ?? PublishRequest.parseTree(request, limits: limits)
            let plan = try PublishPlan.make(parsed, exchange: exchange, catalog: catalog, roundRobinStart: nextRoundRobin(), limits: limits)
            let collector = PublishCollector(plan: plan, responder: responder)
            for share in plan.shares {
                appendShare(share.items, to: share.destinationType, share.destination, placement: share.placement,
                            producer: parsed.producer, original: request) { result in
                    collector.deliver(slots: share.slots, result)
                }
            }
        } catch {
            responder.send(error: error)
        }
    }

    /// Appends one partition's items: here when this node leads the partition, else through the
    /// node-to-node share route on its leader. `completion` gets one offset per item, in order.
    func appendShare(
        _ items: [ProduceRequest.Item], to kind: DestinationType, _ name: String, placement: PartitionPlacement,
        producer: (id: UInt64, sequence: UInt64)?, original: HTTPRequest,
        completion: @escaping @Sendable (Result<[Offset], Error>) -> Void
    ) {
        let partition = Int(placement.partition.rawValue)
        let share = ProduceRequest.partitionRequest(items, topic: name, partition: partition, producer: producer, headers: original.headers)
        let target = "/v1/internal/\(kind == .topic ? "topics" : "queues")/\(name)/partitions/\(partition)/records"
        let forwarded = HTTPRequest(method: .post, target: target, headers: share.headers, body: share.body)
        let sink = { @Sendable in
            HTTPResponder { response in
                completion(ProduceRequest.offsets(from: response, items: items, partition: partition).map { $0.map(\.offset) })
            }
        }
        dispatchToLeader(placement, request: forwarded, responder: sink) {
            self.node.appendLocally(items, group: placement.group, producer: producer, completion: completion)
        }
    }

    /// The node-to-node share: the body is a per-partition produce body, binary
    /// (`application/vnd.mom.batch`) or JSON (records with their positions in the original
    /// request, producer id and sequence).
    private func appendShareRequest(_ request: HTTPRequest, _ responder: HTTPResponder) {
        do {
            let name = request.pathParameter("name") ?? ""
            let kind: DestinationType
            switch request.pathParameter("kind") {
            case "topics": kind = .topic
            case "queues": kind = .queue
            default: throw HTTPError.notFound("unknown destination kind '\(request.pathParameter("kind") ?? "")'; use topics or queues")
            }
            let catalog = node.meta.current
            let partitions = kind == .topic ? catalog.topic(name)?.partitions : catalog.queue(name)?.partitions
            guard let partitions else { throw node.missing(.notFound("\(kind.name) '\(ResourceName.printable(name))' does not exist")) }
            guard let partition = request.pathParameter("p").flatMap(Int.init), (0..<partitions.count).contains(partition) else {
                throw HTTPError.notFound("\(kind.name) '\(name)' has no partition \(request.pathParameter("p") ?? "")")
            }
            // A binary batch (what `appendShare` sends) or the JSON form of one.
            let parsed = try ProduceRequest.parse(request, partitions: partitions.count, roundRobinStart: 0, limits: limits).forcing(partition: partition)
            let items = parsed.items
            let collector = OffsetCollector(positions: items.map(\.position), responder: responder)
            appendShare(items, to: kind, name, placement: partitions[partition], producer: parsed.producer, original: request) { result in
                collector.deliver(result.map { offsets in zip(items, offsets).map { ($0.position, partition, $1) } })
            }
        } catch {
            responder.send(error: error)
        }
    }
}

/// Gathers the shares of one publish and answers once, every copy in its message's slot.
final class PublishCollector: @unchecked Sendable {
    private let lock = ConditionMutex()
    private let plan: PublishPlan
    private var offsets: [Offset?]
    private var remaining: Int
    private var failed = false
    private let responder: HTTPResponder

    init(plan: PublishPlan, responder: HTTPResponder) {
        self.plan = plan
        self.offsets = Array(repeating: nil, count: plan.routes.count)
        self.remaining = plan.routes.count
        self.responder = responder
        if remaining == 0 { responder.send(render()) }
    }

    func deliver(slots: [Int], _ result: Result<[Offset], Error>) {
        let response: HTTPResponse? = lock.withLock {
            guard !failed else { return nil }
            switch result {
            case .failure(let error):
                failed = true
                return HTTPResponse(error: error)
            case .success(let written):
                guard written.count == slots.count else {
                    failed = true
                    return HTTPResponse(error: HTTPError.serviceUnavailable("a partition leader answered with the wrong number of offsets; retry", code: "forward_failed"))
                }
                for (slot, offset) in zip(slots, written) where offsets[slot] == nil {
                    offsets[slot] = offset
                    remaining -= 1
                }
                return remaining == 0 ? render() : nil
            }
        }
        if let response { responder.send(response) }
    }

    private func render() -> HTTPResponse {
        var writer = JSONWriter(reservingCapacity: 32 + plan.routes.count * 96)
        writer.beginObject()
        writer.key("results")
        writer.beginArray()
        for message in 0..<(plan.slotStart.count - 1) {
            writer.beginObject()
            writer.key("routed")
            writer.beginArray()
            for slot in plan.slotStart[message]..<plan.slotStart[message + 1] {
                let route = plan.routes[slot]
                writer.beginObject()
                writer.field("destination", route.destination)
                writer.field("destination_type", route.destinationType.name)
                writer.field("partition", route.partition)
                writer.field("offset", offsets[slot]?.rawValue ?? 0)
                writer.endObject()
            }
            writer.endArray()
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return .json(bytes: writer.bytes)
    }
}
