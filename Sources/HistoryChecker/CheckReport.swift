/// What the checker found: operation counts by kind and outcome, and anomalies by class (exact
/// counts, a few examples each). `isValid` is false on any anomaly.
public struct CheckReport: Sendable {
    /// operation (`produce`, `fetch`, …) → completion type (`ok`, `fail`, `info`) → count.
    public private(set) var operations: [String: [String: Int]] = [:]
    /// fault name → how many times the nemesis applied it.
    public private(set) var faults: [String: Int] = [:]
    /// anomaly class → how many.
    public private(set) var anomalyCounts: [Anomaly.Kind: Int] = [:]
    /// The first few anomalies of each class.
    public private(set) var examples: [Anomaly] = []
    let examplesPerKindMax: Int

    init(examplesPerKindMax: Int) {
        self.examplesPerKindMax = examplesPerKindMax
    }

    /// True when no anomaly was found.
    public var isValid: Bool { anomalyCounts.isEmpty }

    mutating func add(_ anomaly: Anomaly) {
        let count = anomalyCounts[anomaly.kind, default: 0]
        anomalyCounts[anomaly.kind] = count + 1
        if count < examplesPerKindMax { examples.append(anomaly) }
    }

    mutating func add(_ anomalies: [Anomaly]) {
        for anomaly in anomalies { add(anomaly) }
    }

    mutating func countOperations(_ events: [HistoryEvent]) {
        for event in events {
            switch event.type {
            case .ok, .fail, .info:
                operations[event.f ?? "?", default: [:]][event.type.rawValue, default: 0] += 1
            case .nemesis:
                faults[event.f ?? "?", default: 0] += 1
            default:
                break
            }
        }
    }

    /// The summary table: operations, faults, anomalies, then examples. Markdown, so it can be
    /// pasted into docs/status.md as it is.
    public func rendered() -> String {
        var lines = ["| operation | ok | fail | info |", "|---|---:|---:|---:|"]
        for (name, outcomes) in operations.sorted(by: { $0.key < $1.key }) {
            lines.append("| \(name) | \(outcomes["ok", default: 0]) | \(outcomes["fail", default: 0]) | \(outcomes["info", default: 0]) |")
        }
        lines += ["", "| fault | applied |", "|---|---:|"]
        for (name, count) in faults.sorted(by: { $0.key < $1.key }) { lines.append("| \(name) | \(count) |") }
        if faults.isEmpty { lines.append("| (none) | 0 |") }
        lines += ["", "| anomaly | count |", "|---|---:|"]
        for kind in Anomaly.Kind.allCases { lines.append("| \(kind.rawValue) | \(anomalyCounts[kind, default: 0]) |") }
        if !examples.isEmpty {
            lines += ["", "examples:"]
            for anomaly in examples.sorted(by: { $0.kind < $1.kind }) { lines.append("  \(anomaly)") }
        }
        lines += ["", isValid ? "VALID: no anomaly" : "INVALID: \(anomalyCounts.values.reduce(0, +)) anomalies"]
        return lines.joined(separator: "\n")
    }
}
