import HTTPServer
import MOMCore

/// The API half of the dead-letter move (the leader half is `BrokerNode.pickExhausted`): a
/// queue partition's leader, on each receive it serves, copies messages that ran out of
/// deliveries into the same partition of `<queue>.dead-letter` — through that partition's
/// leader, wherever it is — and only once the copy is committed marks them moved.
extension BrokerAPI {
    /// Messages moved per receive, so one receive never carries a large move.
    static let deadLetterBatchMax = 100

    /// Headers each dead-letter copy gets, naming where it came from.
    static let sourceHeaderNames = ["x-mom-source-queue", "x-mom-source-partition", "x-mom-source-offset", "x-mom-delivery-count"]

    func moveExhausted(of queue: QueueConfig, partition: Int) {
        guard let deadLetterName = queue.deadLetterQueue, let deadLetter = node.meta.current.queue(deadLetterName),
              partition < deadLetter.partitions.count else { return }
        let group = queue.partitions[partition].group
        node.pickExhausted(group: group, max: Self.deadLetterBatchMax) { result in
            guard case .success(let messages) = result, !messages.isEmpty else { return }
            let items = messages.enumerated().map { position, message in
                ProduceRequest.Item(
                    position: position, partition: partition, key: message.record.key, value: message.record.value[...],
                    headers: self.deadLetterHeaders(message, queue: queue.name, partition: partition))
            }
            var headers = HTTPHeaders()
            headers.set(name: "Content-Type", value: "application/json")
            if let authorization = self.gate.internalAuthorization() { headers.set(name: "Authorization", value: authorization) }
            self.append(items, to: deadLetter, partition: partition, producer: nil, headers: headers) { appended in
                if case .failure(let error) = appended {
                    Log.warn("dead-letter copy failed; the messages stay due and move on a later receive", [
                        ("queue", queue.name), ("partition", "\(partition)"), ("error", "\(error)"),
                    ])
                }
                self.node.finishDeadLetter(group: group, offsets: messages.map(\.offset), copied: (try? appended.get()) != nil)
            }
        }
    }

    /// The original headers plus the source's names, when there is room for them.
    private func deadLetterHeaders(_ message: ExhaustedMessage, queue: String, partition: Int) -> [Header] {
        let original = message.record.headers.filter { !Self.sourceHeaderNames.contains($0.name) }
        guard original.count + Self.sourceHeaderNames.count <= limits.recordHeadersMax else { return message.record.headers }
        let values = [queue, "\(partition)", "\(message.offset.rawValue)", "\(message.deliveryCount)"]
        return original + zip(Self.sourceHeaderNames, values).map { Header($0, Array($1.utf8)) }
    }
}
