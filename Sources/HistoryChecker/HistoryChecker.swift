/// Checks a chaos history (Jepsen style) against MOM's promises: acknowledged writes survive at
/// their offsets, idempotent producers never duplicate, an offset has one value, consumers read
/// in order without gaps, failed writes stay invisible, replicas agree, queues deliver every
/// message at least once and at most `max_deliveries` times. Pure: events in, report out.
public struct HistoryChecker {
    /// How many examples of each anomaly class the report keeps (the count is always exact).
    public var examplesPerKindMax = 5

    public init() {}

    /// Runs every check over `events` (all history lines, final reads included).
    public func check(_ events: [HistoryEvent]) -> CheckReport {
        var report = CheckReport(examplesPerKindMax: examplesPerKindMax)
        report.countOperations(events)
        let finals = FinalLogs(events)
        for (key, node, error) in finals.unreadable {
            report.add(Anomaly(.replicaUnreadable, "\(key) on node \(node): \(error)"))
        }
        report.add(finals.divergences())
        var observations = ObservedValues()
        let produces = ProduceOutcomes(events)
        checkFinalLogs(finals, produces: produces, observations: &observations, report: &report)
        checkConsumers(events, produces: produces, finals: finals, observations: &observations, report: &report)
        for (key, value, offsets) in observations.conflicts() {
            report.add(Anomaly(.inconsistentOffset, "\(key) offset \(value): values \(offsets.sorted().map { "'\($0)'" }.joined(separator: ", "))"))
        }
        checkAborted(events, produces: produces, finals: finals, report: &report)
        report.add(QueueCheck(events).anomalies())
        return report
    }

    /// Lost writes and duplicates, from the authoritative final log of each partition.
    private func checkFinalLogs(_ finals: FinalLogs, produces: ProduceOutcomes, observations: inout ObservedValues, report: inout CheckReport) {
        for (key, logs) in finals.replicas {
            for (_, log) in logs { for record in log { observations.add(key, record.offset, record.value) } }
        }
        for (key, offset, value) in produces.acks { observations.add(key, offset, value) }
        for (key, acknowledged) in produces.acknowledged.sorted(by: { $0.key < $1.key }) {
            let log = finals.authoritative(key)
            for (offset, value) in acknowledged.sorted(by: { $0.key < $1.key }) {
                guard let log else {
                    report.add(Anomaly(.lostWrite, "\(key) offset \(offset) value '\(value)': acknowledged, but no replica of \(key) was read"))
                    continue
                }
                if let record = log[offset] {
                    if record.value != value {
                        report.add(Anomaly(.lostWrite, "\(key) offset \(offset): acknowledged '\(value)', committed log has '\(record.value)'"))
                    }
                } else {
                    report.add(Anomaly(.lostWrite, "\(key) offset \(offset) value '\(value)': acknowledged, absent from the committed log"))
                }
            }
        }
        for key in finals.replicas.keys.sorted() {
            guard let log = finals.authoritative(key) else { continue }
            var offsetsByValue: [String: [UInt64]] = [:]
            for record in log.values { offsetsByValue[record.value, default: []].append(record.offset) }
            for (value, offsets) in offsetsByValue.sorted(by: { $0.key < $1.key }) where offsets.count > 1 {
                report.add(Anomaly(.duplicate, "\(key): value '\(value)' committed at offsets \(offsets.sorted())"))
            }
        }
    }

    /// Per consumer and partition: reads go forward, skip nothing committed, and together the
    /// consumers of a partition saw every acknowledged write.
    private func checkConsumers(_ events: [HistoryEvent], produces: ProduceOutcomes, finals: FinalLogs, observations: inout ObservedValues, report: inout CheckReport) {
        var cursors: [ConsumerKey: UInt64] = [:]
        var seen: [PartitionKey: Set<UInt64>] = [:]
        var committedOffsets: [PartitionKey: [UInt64]] = [:]
        for key in finals.replicas.keys { committedOffsets[key] = finals.authoritative(key).map { $0.keys.sorted() } ?? [] }
        for event in events where event.type == .ok && event.f == "fetch" {
            guard let topic = event.topic, let partition = event.partition, let process = event.process, let from = event.offset else { continue }
            let key = PartitionKey(topic: topic, partition: partition)
            let consumer = ConsumerKey(process: process, partition: key)
            var position = from
            if let last = cursors[consumer], from < last {
                report.add(Anomaly(.nonMonotonicRead, "process \(process) on \(key): fetched from offset \(from) after reading up to \(last)"))
            }
            for record in event.records ?? [] {
                observations.add(key, record.offset, record.value)
                seen[key, default: []].insert(record.offset)
                if record.offset < position {
                    report.add(Anomaly(.nonMonotonicRead, "process \(process) on \(key): got offset \(record.offset) after position \(position) (fetch from \(from), node \(event.node ?? -1))"))
                    continue
                }
                if let skipped = Self.firstCommitted(in: position..<record.offset, of: committedOffsets[key] ?? []) {
                    report.add(Anomaly(.skippedRead, "process \(process) on \(key): read offset \(record.offset) after position \(position), skipping committed offset \(skipped) (node \(event.node ?? -1))"))
                }
                position = record.offset + 1
            }
            if let next = event.nextOffset, next > position,
               let skipped = Self.firstCommitted(in: position..<next, of: committedOffsets[key] ?? []),
               skipped < (event.highWatermark ?? next) {
                report.add(Anomaly(.skippedRead, "process \(process) on \(key): next_offset \(next) steps over committed offset \(skipped) (node \(event.node ?? -1))"))
            }
            cursors[consumer] = max(position, event.nextOffset ?? position)
        }
        checkUnseen(produces, seen: seen, report: &report)
    }

    /// Acknowledged writes of partitions that consumers read, which no consumer ever saw.
    private func checkUnseen(_ produces: ProduceOutcomes, seen: [PartitionKey: Set<UInt64>], report: inout CheckReport) {
        for (key, acknowledged) in produces.acknowledged.sorted(by: { $0.key < $1.key }) {
            guard let offsets = seen[key] else { continue }
            let unseen = acknowledged.keys.filter { !offsets.contains($0) }.sorted()
            if let first = unseen.first {
                report.add(Anomaly(.unseenWrite, "\(key): \(unseen.count) acknowledged offsets never read by any consumer, first \(first) ('\(acknowledged[first] ?? "")')"))
            }
        }
    }

    /// Writes that definitely failed, yet a read or a replica shows their value.
    private func checkAborted(_ events: [HistoryEvent], produces: ProduceOutcomes, finals: FinalLogs, report: inout CheckReport) {
        guard !produces.failedValues.isEmpty else { return }
        var visible: [String: String] = [:]
        for event in events where (event.type == .ok && event.f == "fetch") || event.type == .final {
            for record in event.records ?? [] where produces.failedValues.contains(record.value) {
                visible[record.value] = "\(event.topic ?? "?")/\(event.partition ?? -1) offset \(record.offset) (\(event.type == .final ? "replica" : "read") on node \(event.node ?? -1))"
            }
        }
        for (value, place) in visible.sorted(by: { $0.key < $1.key }) {
            report.add(Anomaly(.abortedRead, "value '\(value)' failed definitely but is visible at \(place)"))
        }
    }

    /// The first offset of `sorted` inside `range` (binary search), if any.
    static func firstCommitted(in range: Range<UInt64>, of sorted: [UInt64]) -> UInt64? {
        guard !range.isEmpty else { return nil }
        var low = 0
        var high = sorted.count
        while low < high {
            let middle = (low + high) / 2
            if sorted[middle] < range.lowerBound { low = middle + 1 } else { high = middle }
        }
        return low < sorted.count && sorted[low] < range.upperBound ? sorted[low] : nil
    }
}

/// A consumer thread reading one partition.
struct ConsumerKey: Hashable {
    let process: Int
    let partition: PartitionKey
}

/// Every (partition, offset) → values seen anywhere: acks, reads, replicas.
struct ObservedValues {
    private var values: [PartitionKey: [UInt64: Set<String>]] = [:]

    mutating func add(_ key: PartitionKey, _ offset: UInt64, _ value: String) {
        values[key, default: [:]][offset, default: []].insert(value)
    }

    func conflicts() -> [(PartitionKey, UInt64, Set<String>)] {
        var result: [(PartitionKey, UInt64, Set<String>)] = []
        for (key, offsets) in values.sorted(by: { $0.key < $1.key }) {
            for (offset, seen) in offsets.sorted(by: { $0.key < $1.key }) where seen.count > 1 {
                result.append((key, offset, seen))
            }
        }
        return result
    }
}

/// What the producers were told: acknowledged (partition, offset) → value, and the values of
/// writes that definitely failed (no attempt of them was acknowledged or left unknown).
struct ProduceOutcomes {
    var acknowledged: [PartitionKey: [UInt64: String]] = [:]
    /// Every acknowledgement, in history order (two acks may name one offset).
    var acks: [(PartitionKey, UInt64, String)] = []
    var failedValues: Set<String> = []

    init(_ events: [HistoryEvent]) {
        // A value is definitely failed only if every attempt failed: an `info` attempt (a
        // timeout) may have been written, and a later retry with the same producer id and
        // sequence may then be refused without that making the first copy an aborted read.
        var mayBeWritten: Set<String> = []
        for event in events where event.f == "produce" {
            guard let value = event.value else { continue }
            switch event.type {
            case .info:
                mayBeWritten.insert(value)
            case .ok:
                mayBeWritten.insert(value)
                if let topic = event.topic, let partition = event.partition, let offset = event.offset {
                    let key = PartitionKey(topic: topic, partition: partition)
                    acknowledged[key, default: [:]][offset] = value
                    acks.append((key, offset, value))
                }
            case .fail:
                failedValues.insert(value)
            default:
                break
            }
        }
        failedValues.subtract(mayBeWritten)
    }
}
