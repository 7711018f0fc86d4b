/// Where a record lives: a topic (or queue) partition.
public struct PartitionKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let topic: String
    public let partition: Int

    public init(topic: String, partition: Int) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)/\(partition)" }

    public static func < (left: PartitionKey, right: PartitionKey) -> Bool {
        (left.topic, left.partition) < (right.topic, right.partition)
    }
}

/// The final committed logs of every replica, read after healing, and the one log the other
/// checks compare against: the longest replica's, once the prefixes are known to agree.
struct FinalLogs {
    /// Per partition, per replica node: the committed records in offset order.
    var replicas: [PartitionKey: [Int: [ReadRecord]]] = [:]
    /// Replicas whose final read failed.
    var unreadable: [(PartitionKey, Int, String)] = []

    init(_ events: [HistoryEvent]) {
        for event in events where event.type == .final {
            guard let topic = event.topic, let partition = event.partition, let node = event.node else { continue }
            let key = PartitionKey(topic: topic, partition: partition)
            if let error = event.error {
                unreadable.append((key, node, error))
                continue
            }
            replicas[key, default: [:]][node, default: []] += event.records ?? []
        }
    }

    /// The authoritative log of a partition: offset → record, from the longest replica.
    func authoritative(_ key: PartitionKey) -> [UInt64: ReadRecord]? {
        guard let logs = replicas[key], let longest = logs.max(by: { ($0.value.count, -$0.key) < ($1.value.count, -$1.key) }) else {
            return nil
        }
        return Dictionary(longest.value.map { ($0.offset, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Replicas whose committed prefixes differ: each is compared with the longest one over the
    /// shorter length, record by record (offset, value and digest).
    func divergences() -> [Anomaly] {
        var anomalies: [Anomaly] = []
        for (key, logs) in replicas.sorted(by: { $0.key < $1.key }) {
            guard let reference = logs.max(by: { ($0.value.count, -$0.key) < ($1.value.count, -$1.key) }) else { continue }
            for (node, log) in logs.sorted(by: { $0.key < $1.key }) where node != reference.key {
                for (index, record) in log.enumerated() {
                    let other = index < reference.value.count ? reference.value[index] : nil
                    if other != record {
                        let theirs = other.map { "offset \($0.offset) value '\($0.value)' digest \($0.digest ?? "-")" } ?? "nothing"
                        anomalies.append(Anomaly(.replicaDivergence,
                            "\(key): node \(node) has offset \(record.offset) value '\(record.value)' digest \(record.digest ?? "-") at position \(index), node \(reference.key) has \(theirs)"))
                        break
                    }
                }
            }
        }
        return anomalies
    }
}
