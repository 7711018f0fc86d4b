import HTTPServer
import MOMCore
import SystemIO

/// `GET /v1/topics/{t}` on a node that does not host every partition (more nodes than the
/// replication factor): the partitions it does not replicate are asked of their leaders
/// (`GET /v1/topics/{t}/partitions/{p}`), so the answer names every leader and bound, whichever
/// node a client asks. Before this, such partitions showed `"leader": null` forever, and a client
/// waiting for leaders through one node waited in vain.
extension BrokerAPI {
    func describeWithRemoteBounds(name: String, topic: TopicConfig, request: HTTPRequest, responder: HTTPResponder) {
        let remote = topic.partitions.filter { node.host.status(of: $0.group) == nil }
        // A forwarded describe answers from what it knows: one fan-out per client request.
        guard !remote.isEmpty, request.headers[Forwarder.hopsHeader] == nil else {
            responder.send(.json(bytes: topicJSON(name: name, topic: topic)))
            return
        }
        let collector = BoundsCollector(partitions: remote.map { Int($0.partition.rawValue) }) { answers in
            responder.send(.json(bytes: self.topicJSON(name: name, topic: topic, remote: answers)))
        }
        for placement in remote {
            let partition = Int(placement.partition.rawValue)
            let share = Self.subrequest(.get, "/v1/topics/\(name)/partitions/\(partition)", from: request)
            partitionBounds(topic, partition: partition, request: share, responder: collector.responder(for: partition))
        }
    }
}

/// Collects the per-partition bounds answers of one describe. Unlike `PartitionGather`, a failed
/// share is not an error of the whole: that partition is described without a leader.
final class BoundsCollector: @unchecked Sendable {
    private let lock = ConditionMutex()
    private var answers: [Int: JSONValue] = [:]
    private var remaining: Int
    private let completion: @Sendable ([Int: JSONValue]) -> Void

    init(partitions: [Int], completion: @escaping @Sendable ([Int: JSONValue]) -> Void) {
        precondition(!partitions.isEmpty, "nothing to collect")
        remaining = partitions.count
        self.completion = completion
    }

    func responder(for partition: Int) -> HTTPResponder {
        HTTPResponder { response in self.deliver(partition, response) }
    }

    private func deliver(_ partition: Int, _ response: HTTPResponse) {
        let done: [Int: JSONValue]? = lock.withLock {
            if response.status.code / 100 == 2, let json = try? JSONValue(parsing: response.body) { answers[partition] = json }
            remaining -= 1
            return remaining == 0 ? answers : nil
        }
        if let done { completion(done) }
    }
}
