import Auth
import HTTPServer
import MOMCore
import Replication
import SystemIO

/// Receive and ack (`POST /v1/queues/{q}/receive|ack`), and the per-partition routes a node
/// forwards a partition's share to when another node leads it.
extension BrokerAPI {
    func registerQueues(_ router: inout Router) {
        registerQueueAdmin(&router)
        registerQueueSend(&router)
        router.add(.post, "/v1/queues/{q}/receive", action: .receive, gate: gate) { request, responder in self.receive(request, responder) }
        router.add(.post, "/v1/queues/{q}/ack", action: .ack, gate: gate) { request, responder in self.ack(request, responder, onlyPartition: nil) }
        router.add(.post, "/v1/queues/{q}/partitions/{p}/receive", action: .receive, gate: gate) { request, responder in
            self.receivePartition(request, responder)
        }
        router.add(.post, "/v1/queues/{q}/partitions/{p}/ack", action: .ack, gate: gate) { request, responder in
            do {
                let queue = try self.queueOrError(request)
                self.ack(request, responder, onlyPartition: try Self.partitionNumber(request, of: queue))
            } catch {
                responder.send(error: error)
            }
        }
    }

    static func partitionNumber(_ request: HTTPRequest, of queue: QueueConfig) throws(HTTPError) -> Int {
        guard let partition = request.pathParameter("p").flatMap(Int.init), (0..<queue.partitions.count).contains(partition) else {
            throw .notFound("queue '\(queue.name)' has no partition \(ResourceName.printable(request.pathParameter("p") ?? ""))")
        }
        return partition
    }

    /// `max_messages` (1…, default 10, at most `queueBatchMessagesMax`) and `wait_ms` (0…,
    /// default 0, at most `longPollWaitMillisecondsMax`) from an optional JSON body.
    func receiveParameters(_ request: HTTPRequest) throws(HTTPError) -> (maxMessages: Int, waitMilliseconds: UInt64) {
        guard !request.body.isEmpty else { return (10, 0) }
        let body = try RequestJSON.object(request, limits: limits)
        let maxMessages = try RequestJSON.integer(body, "max_messages", range: 1...Int64.max, default: 10)!
        let wait = try RequestJSON.integer(body, "wait_ms", range: 0...Int64.max, default: 0)!
        return (Int(min(maxMessages, Int64(limits.queueBatchMessagesMax))), min(UInt64(wait), limits.longPollWaitMillisecondsMax))
    }

    private func receive(_ request: HTTPRequest, _ responder: HTTPResponder) {
        do {
            let queue = try queueOrError(request)
            let (maxMessages, wait) = try receiveParameters(request)
            QueueReceiveSweep(
                api: self, queue: queue, maxMessages: maxMessages, waitMilliseconds: wait, original: request,
                firstPartition: nextRoundRobin() % queue.partitions.count, responder: responder
            ).start()
        } catch {
            responder.send(error: error)
        }
    }

    /// A partition's share, on the node that should lead it (or one hop on from there).
    private func receivePartition(_ request: HTTPRequest, _ responder: HTTPResponder) {
        do {
            let queue = try queueOrError(request)
            let partition = try Self.partitionNumber(request, of: queue)
            let (maxMessages, wait) = try receiveParameters(request)
            receive(from: queue, partition: partition, maxMessages: maxMessages, waitMilliseconds: wait, original: request) { result in
                switch result {
                case .success(let messages): responder.send(QueueWire.response(messages))
                case .failure(let error): responder.send(error: error)
                }
            }
        } catch {
            responder.send(error: error)
        }
    }

    private func ack(_ request: HTTPRequest, _ responder: HTTPResponder, onlyPartition: Int?) {
        do {
            let queue = try queueOrError(request)
            let body = try RequestJSON.object(request, limits: limits)
            guard let list = body["receipts"]?.arrayValue else { throw HTTPError.badRequest("'receipts' must be an array of receipt strings") }
            guard !list.isEmpty else { throw HTTPError.badRequest("'receipts' is empty; pass the receipts receive returned") }
            guard list.count <= limits.queueBatchMessagesMax else {
                throw HTTPError.badRequest("at most \(limits.queueBatchMessagesMax) receipts per ack; split the request")
            }
            var receipts: [QueueReceipt] = []
            for item in list {
                guard let text = item.stringValue else { throw HTTPError.badRequest("each receipt must be a string") }
                let receipt: QueueReceipt
                do { receipt = try QueueReceipt(text: text) } catch { throw error.httpError }
                guard Int(receipt.partition.rawValue) < queue.partitions.count, onlyPartition.map({ $0 == Int(receipt.partition.rawValue) }) ?? true else {
                    throw HTTPError.badRequest("receipt '\(receipt.text)' names partition \(receipt.partition.rawValue), which queue '\(queue.name)' does not have here; pass receipts exactly as receive returned them")
                }
                receipts.append(receipt)
            }
            let collector = AckCollector(count: receipts.count, responder: responder)
            let byPartition = Dictionary(grouping: receipts.indices, by: { Int(receipts[$0].partition.rawValue) })
            for (partition, positions) in byPartition.sorted(by: { $0.key < $1.key }) {
                ack(positions.map { receipts[$0] }, queue: queue, partition: partition, original: request) { result in
                    collector.deliver(positions: positions, result)
                }
            }
        } catch {
            responder.send(error: error)
        }
    }
}

/// Gathers per-partition ack answers and responds once, outcomes in request order.
final class AckCollector: @unchecked Sendable {
    private let lock = ConditionMutex()
    private var outcomes: [QueueAckOutcome?]
    private var remaining: Int
    private var failed = false
    private let responder: HTTPResponder

    init(count: Int, responder: HTTPResponder) {
        outcomes = Array(repeating: nil, count: count)
        remaining = count
        self.responder = responder
    }

    func deliver(positions: [Int], _ result: Result<[QueueAckOutcome], HTTPError>) {
        let response: HTTPResponse? = lock.withLock {
            guard !failed else { return nil }
            switch result {
            case .failure(let error):
                failed = true
                return HTTPResponse(error: error)
            case .success(let answers):
                for (position, outcome) in zip(positions, answers) where outcomes[position] == nil {
                    outcomes[position] = outcome
                    remaining -= 1
                }
                return remaining == 0 ? QueueAckSummary.response(outcomes.compactMap { $0 }) : nil
            }
        }
        if let response { responder.send(response) }
    }
}
