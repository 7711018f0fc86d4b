/// The queue promises (DESIGN.md §4): every acknowledged message is delivered at least once
/// (or dead-lettered), never more than `max_deliveries` times, and a message id (queue,
/// partition, offset) always carries the value that was sent.
struct QueueCheck {
    private struct MessageID: Hashable, Comparable {
        let queue: String
        let partition: Int
        let offset: UInt64
        static func < (left: MessageID, right: MessageID) -> Bool {
            (left.queue, left.partition, left.offset) < (right.queue, right.partition, right.offset)
        }
    }

    private var sent: [String: String] = [:]
    private var failed: Set<String> = []
    private var unknown: Set<String> = []
    private var deliveries: [MessageID: (count: Int, highestCount: Int, values: Set<String>)] = [:]
    private var deliveredValues: Set<String> = []
    private var deadLetters: Set<String> = []
    private var maxDeliveries: Int?
    private var anyQueueFinal = false

    init(_ events: [HistoryEvent]) {
        for event in events {
            switch (event.type, event.f) {
            case (.config, _):
                if let max = event.queueMaxDeliveries { maxDeliveries = max }
            case (.ok, "enqueue"):
                if let value = event.value { sent[value] = event.queue ?? "?" }
            case (.fail, "enqueue"):
                if let value = event.value { failed.insert(value) }
            case (.info, "enqueue"):
                if let value = event.value { unknown.insert(value) }
            case (.ok, "receive"):
                for message in event.messages ?? [] {
                    let id = MessageID(queue: event.queue ?? "?", partition: message.partition, offset: message.offset)
                    var entry = deliveries[id] ?? (0, 0, [])
                    entry.count += 1
                    entry.highestCount = max(entry.highestCount, message.deliveryCount)
                    entry.values.insert(message.value)
                    deliveries[id] = entry
                    deliveredValues.insert(message.value)
                }
            case (.finalQueue, _):
                anyQueueFinal = true
                deadLetters.formUnion(event.deadLetters ?? [])
            default:
                break
            }
        }
        failed.subtract(sent.keys)
        failed.subtract(unknown)
    }

    func anomalies() -> [Anomaly] {
        var anomalies: [Anomaly] = []
        for (id, delivery) in deliveries.sorted(by: { $0.key < $1.key }) {
            let label = "queue '\(id.queue)' partition \(id.partition) offset \(id.offset)"
            if delivery.values.count > 1 {
                anomalies.append(Anomaly(.inconsistentOffset, "\(label): delivered with values \(delivery.values.sorted())"))
            }
            if let maxDeliveries, max(delivery.count, delivery.highestCount) > maxDeliveries {
                anomalies.append(Anomaly(.queueOverDelivered,
                    "\(label): delivered \(delivery.count) times seen, delivery_count up to \(delivery.highestCount), max_deliveries \(maxDeliveries)"))
            }
            for value in delivery.values where failed.contains(value) {
                anomalies.append(Anomaly(.abortedRead, "\(label): value '\(value)' failed definitely on enqueue but was delivered"))
            }
        }
        // Lost only makes sense once the run drained the queue (a final_queue line says so).
        guard anyQueueFinal else { return anomalies }
        let lost = sent.filter { !deliveredValues.contains($0.key) && !deadLetters.contains($0.key) }.sorted { $0.key < $1.key }
        if let first = lost.first {
            anomalies.append(Anomaly(.queueLost, "\(lost.count) acknowledged messages never delivered nor dead-lettered, first '\(first.key)' on queue '\(first.value)'"))
        }
        return anomalies
    }
}
