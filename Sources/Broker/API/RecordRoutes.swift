import Auth
import HTTPServer
import MOMCore
import Raft
import Replication
import SystemIO

/// Produce (`POST …/records`) and fetch-by-offset (`GET …/partitions/{p}/records`).
extension BrokerAPI {
    func registerRecords(_ router: inout Router) {
        router.add(.post, "/v1/topics/{t}/records", action: .publish, gate: gate) { request, responder in self.produce(request, responder, onlyPartition: nil) }
        router.add(.post, "/v1/topics/{t}/partitions/{p}/records", action: .publish, gate: gate) { request, responder in
            guard let partition = request.pathParameter("p").flatMap(Int.init) else {
                return _ = responder.send(error: HTTPError.badRequest("partition must be a number"))
            }
            self.produce(request, responder, onlyPartition: partition)
        }
        router.add(.get, "/v1/topics/{t}/partitions/{p}/records", action: .read, gate: gate) { request, responder in self.fetch(request, responder) }
    }

    private func topicOrError(_ request: HTTPRequest) throws(HTTPError) -> TopicConfig {
        let name = request.pathParameter("t") ?? ""
        guard let topic = node.meta.current.topic(name) else {
            throw node.missing(.notFound("topic '\(name)' does not exist; create it with POST /v1/topics"))
        }
        return topic
    }

    private func produce(_ request: HTTPRequest, _ responder: HTTPResponder, onlyPartition: Int?) {
        do {
            let topic = try topicOrError(request)
            if let onlyPartition, !(0..<topic.partitions.count).contains(onlyPartition) {
                throw HTTPError.notFound("topic '\(topic.name)' has no partition \(onlyPartition)")
            }
            var parsed = try ProduceRequest.parse(request, partitions: topic.partitions.count, roundRobinStart: nextRoundRobin(), limits: limits)
            if let onlyPartition { parsed = parsed.forcing(partition: onlyPartition) }
            let collector = OffsetCollector(positions: parsed.items.map(\.position), responder: responder)
            for (partition, items) in ProduceRequest.byPartition(parsed.items) {
                produce(items, to: topic, partition: partition, producer: parsed.producer, original: request, collector: collector)
            }
        } catch {
            responder.send(error: error)
        }
    }

    /// Writes one partition's share of a request: locally when this node leads the partition,
    /// otherwise through the leader (or a replica that knows it).
    private func produce(
        _ items: [ProduceRequest.Item], to topic: TopicConfig, partition: Int, producer: (id: UInt64, sequence: UInt64)?,
        original: HTTPRequest, collector: OffsetCollector
    ) {
        let placement = topic.partitions[partition]
        let status = node.host.status(of: placement.group)
        if status?.role == .leader {
            appendLocally(items, placement: placement, partition: partition, producer: producer, collector: collector)
            return
        }
        if status != nil && status?.leader == nil {
            // Hosted here but leaderless for now (a new partition, a failover): wait a moment
            // for the election rather than bouncing the request between followers.
            awaitLeaders(of: [placement.group], timeoutMilliseconds: leaderWaitMilliseconds) {
                self.produceElsewhere(items, to: topic, partition: partition, producer: producer, original: original, collector: collector)
            }
            return
        }
        produceElsewhere(items, to: topic, partition: partition, producer: producer, original: original, collector: collector)
    }

    private func appendLocally(
        _ items: [ProduceRequest.Item], placement: PartitionPlacement, partition: Int, producer: (id: UInt64, sequence: UInt64)?,
        collector: OffsetCollector
    ) {
        let positions = items.map(\.position)  // not the items: their values may pin the request body
        node.appendLocally(items, group: placement.group, producer: producer) { result in
            collector.deliver(result.map { offsets in zip(positions, offsets).map { ($0, partition, $1) } })
        }
    }

    /// Writes through the leader this node knows, or a replica that may know it.
    private func produceElsewhere(
        _ items: [ProduceRequest.Item], to topic: TopicConfig, partition: Int, producer: (id: UInt64, sequence: UInt64)?,
        original: HTTPRequest, collector: OffsetCollector
    ) {
        let placement = topic.partitions[partition]
        let status = node.host.status(of: placement.group)
        if status?.role == .leader {
            return appendLocally(items, placement: placement, partition: partition, producer: producer, collector: collector)
        }
        let target = status?.leader ?? placement.replicas.first { $0 != node.config.nodeID }
        guard let target, target != node.config.nodeID else {
            collector.deliver(.failure(HTTPError.serviceUnavailable("partition \(partition) of '\(topic.name)' has no leader yet; retry", code: "no_leader")))
            return
        }
        let subrequest = ProduceRequest.partitionRequest(items, topic: topic.name, partition: partition, producer: producer, headers: original.headers)
        let sink = HTTPResponder { response in
            collector.deliver(ProduceRequest.offsets(from: response, items: items, partition: partition))
        }
        forwarder.forward(subrequest, to: target, responder: sink)
    }

    private func fetch(_ request: HTTPRequest, _ responder: HTTPResponder) {
        do {
            let topic = try topicOrError(request)
            guard let partition = request.pathParameter("p").flatMap(Int.init), (0..<topic.partitions.count).contains(partition) else {
                throw HTTPError.notFound("topic '\(topic.name)' has no partition \(request.pathParameter("p") ?? "")")
            }
            guard let offset = try request.queryInteger("offset") else { throw HTTPError.badRequest("'offset' is required, e.g. ?offset=0") }
            // Offsets are signed 64-bit in every client; larger ones would overflow the offset → index step.
            guard offset <= UInt64(Int64.max) else { throw HTTPError.badRequest("'offset' must be at most \(Int64.max)") }
            let maxRecords = Int(min(try request.queryInteger("max_records") ?? 1000, UInt64(limits.batchRecordsMax)))
            let maxBytes = Int(min(try request.queryInteger("max_bytes") ?? 1 << 20, UInt64(limits.readBytesMax)))
            let waitMilliseconds = min(try request.queryInteger("wait_ms") ?? 0, limits.longPollWaitMillisecondsMax)
            let placement = topic.partitions[partition]
            // `local=true` reads this node's replica or nothing: never forwarded, so a checker
            // can compare every replica's committed log (docs/chaos.md). It shows no more than a
            // fetch does (committed records only), so the read permission is enough.
            let localOnly = try request.queryParameter("local") == "true"
            if localOnly && node.host.status(of: placement.group) == nil {
                throw HTTPError.notFound("node \(node.config.nodeID.rawValue) holds no replica of partition \(partition) of '\(topic.name)'")
            }
            guard node.host.status(of: placement.group) != nil else {
                let target = node.host.status(of: placement.group)?.leader ?? placement.replicas.first { $0 != node.config.nodeID }
                guard let target else { throw HTTPError.serviceUnavailable("partition \(partition) is not served here yet; retry", code: "unavailable") }
                return forwarder.forward(request, to: target, responder: responder)
            }
            let fetch = FetchRequest(group: placement.group, offset: Offset(offset), maxRecords: max(1, maxRecords), maxBytes: max(1, maxBytes), waitMilliseconds: waitMilliseconds)
            let askLeader: (@Sendable (UInt64) -> Void)? = localOnly ? nil : { @Sendable wait in
                self.fetchFromLeader(request, fetch, waitMilliseconds: wait, partition: partition, responder: responder)
            }
            node.fetch(fetch, askLeader: askLeader, completion: answer(responder, accept: request.headers["Accept"]))
        } catch {
            responder.send(error: error)
        }
    }

    /// The offset is outside this follower's committed log: its commit index may just trail the
    /// leader's, so the leader answers (records, a wait, or a 416 it can vouch for). The wait
    /// passed on is what is left of the request's (none after a wait here).
    private func fetchFromLeader(_ request: HTTPRequest, _ fetch: FetchRequest, waitMilliseconds: UInt64, partition: Int, responder: HTTPResponder) {
        let unavailable = HTTPError.serviceUnavailable(
            "partition \(partition) has no leader to serve an offset outside this replica's committed log; retry", code: "no_leader")
        guard let leader = node.host.status(of: fetch.group)?.leader else {
            responder.send(error: unavailable)
            return
        }
        guard leader != node.config.nodeID else {
            // This node won leadership since it read its log: read once more, as leader. If it
            // lost it again meanwhile, the client retries rather than this node going round.
            node.fetch(fetch.waiting(waitMilliseconds), askLeader: { _ in responder.send(error: unavailable) },
                       completion: answer(responder, accept: request.headers["Accept"]))
            return
        }
        var forwarded = request
        if waitMilliseconds != fetch.waitMilliseconds { forwarded.rawQuery = Self.query(forwarded.rawQuery, setting: "wait_ms", to: "\(waitMilliseconds)") }
        forwarder.forward(forwarded, to: leader, responder: responder)
    }

    /// Sends a fetch's outcome: the page in the format `accept` asks for, or the error. A page
    /// of `fetchOffloadBytesMin` or more is encoded on `fetchEncoder`'s thread when it has room:
    /// the completion runs on the replication loop, which a 1,000-record JSON answer would hold
    /// for about a millisecond (docs/performance.md §21).
    func answer(_ responder: HTTPResponder, accept: String?) -> @Sendable (Result<FetchPage, HTTPError>) -> Void {
        let encoder = fetchEncoder
        return { result in
            switch result {
            case .success(let page):
                if let encoder, page.valueBytes >= Self.fetchOffloadBytesMin,
                   encoder.submit({ responder.send(page.response(accept: accept)) }) { return }
                responder.send(page.response(accept: accept))
            case .failure(let error):
                responder.send(error: error)
            }
        }
    }

    /// Smaller pages are encoded where they are read: a thread hop costs more than they do.
    static let fetchOffloadBytesMin = 64 << 10

    /// `query` with every `name=…` component replaced by one `name=value` (raw names compared:
    /// the server's own parameters are plain ASCII).
    static func query(_ query: String?, setting name: String, to value: String) -> String {
        let kept = (query ?? "").split(separator: "&", omittingEmptySubsequences: true)
            .filter { $0.split(separator: "=", maxSplits: 1).first.map(String.init) != name }
        return (kept.map(String.init) + ["\(name)=\(value)"]).joined(separator: "&")
    }
}

/// Gathers per-partition answers of one produce request and responds once, in request order.
final class OffsetCollector: @unchecked Sendable {
    private let lock = ConditionMutex()
    private var offsets: [(partition: Int, offset: Offset)?]
    /// Where each record's answer goes: records carry their position in the original request
    /// (a forwarded share keeps the positions of the request it came from).
    private let slotOfPosition: [Int: Int]?
    private var remaining: Int
    private var failed = false
    private let responder: HTTPResponder

    init(positions: [Int], responder: HTTPResponder) {
        self.offsets = Array(repeating: nil, count: positions.count)
        // Positions are usually 0..<count in order (a request answered here): then a position
        // is its own slot, and the map is not built per request.
        let isIdentity = positions.indices.allSatisfy { positions[$0] == $0 }
        self.slotOfPosition = isIdentity ? nil : Dictionary(positions.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        self.remaining = positions.count
        self.responder = responder
    }

    func deliver(_ result: Result<[(position: Int, partition: Int, offset: Offset)], Error>) {
        let response: HTTPResponse? = lock.withLock {
            guard !failed else { return nil }
            switch result {
            case .failure(let error):
                failed = true
                return HTTPResponse(error: error)
            case .success(let items):
                for item in items {
                    guard let slot = slot(of: item.position), offsets[slot] == nil else { continue }
                    offsets[slot] = (item.partition, item.offset)
                    remaining -= 1
                }
                return remaining == 0 ? render() : nil
            }
        }
        if let response { responder.send(response) }
    }

    private func slot(of position: Int) -> Int? {
        if let slotOfPosition { return slotOfPosition[position] }
        return offsets.indices.contains(position) ? position : nil
    }

    private func render() -> HTTPResponse {
        .json(bytes: Self.answer(offsets))
    }

    /// `{"offsets":[{"partition":P,"offset":O},…]}`, the produce answer (also what a relaying
    /// node reads back from the leader, `ProduceRequest.scannedOffsets`); nil slots are left out.
    static func answer(_ offsets: [(partition: Int, offset: Offset)?]) -> [UInt8] {
        var writer = JSONWriter(reservingCapacity: 16 + offsets.count * 32)
        writer.beginObject()
        writer.key("offsets")
        writer.beginArray()
        for case let (partition, offset)? in offsets {
            writer.beginObject()
            writer.field("partition", partition)
            writer.field("offset", offset.rawValue)
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }
}
