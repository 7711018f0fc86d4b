/// Writes the Prometheus text exposition format, version 0.0.4: a `# HELP` and a `# TYPE` line
/// per family, then its samples, with label values and help text escaped as the format says.
///
/// Names are chosen by this code, not by clients, so a bad name is a programmer error
/// (precondition); label *values* can come from users (topic names) and are always escaped.
struct ExpositionWriter {
    enum MetricType: String {
        case counter, gauge, histogram
    }

    /// The content type a scraper expects for this format.
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    private(set) var text = ""

    init(reservingCapacity capacity: Int = 4_096) { text.reserveCapacity(capacity) }

    /// Starts a family. Every sample of the family must follow before the next one starts.
    mutating func family(_ name: String, _ type: MetricType, help: String) {
        precondition(Self.isMetricName(name), "bad metric name \(name)")
        text += "# HELP \(name) \(Self.escapeHelp(help))\n# TYPE \(name) \(type.rawValue)\n"
    }

    mutating func sample(_ name: String, _ labels: [(String, String)] = [], _ value: UInt64) {
        line(name, labels, String(value))
    }

    /// The `_bucket` series (cumulative, ending with `+Inf`), then `_sum` in seconds and `_count`.
    mutating func histogram(_ name: String, _ labels: [(String, String)] = [], _ snapshot: LatencyHistogram.Snapshot, buckets: LatencyHistogram.Buckets) {
        precondition(snapshot.cumulativeCounts.count == buckets.labels.count + 1, "snapshot and buckets disagree")
        for (index, bound) in buckets.labels.enumerated() {
            line("\(name)_bucket", labels + [("le", bound)], String(snapshot.cumulativeCounts[index]))
        }
        line("\(name)_bucket", labels + [("le", "+Inf")], String(snapshot.count))
        line("\(name)_sum", labels, Self.format(Double(snapshot.sumNanoseconds) / 1_000_000_000))
        line("\(name)_count", labels, String(snapshot.count))
    }

    private mutating func line(_ name: String, _ labels: [(String, String)], _ value: String) {
        text += name
        if !labels.isEmpty {
            text += "{"
            for (index, (label, labelValue)) in labels.enumerated() {
                precondition(Self.isLabelName(label), "bad label name \(label)")
                if index > 0 { text += "," }
                text += label
                text += "=\""
                text += Self.escapeLabelValue(labelValue)
                text += "\""
            }
            text += "}"
        }
        text += " "
        text += value
        text += "\n"
    }

    /// `\` → `\\`, `"` → `\"`, newline → `\n` (the three escapes the format defines).
    static func escapeLabelValue(_ value: String) -> String {
        guard value.utf8.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") }) else { return value }
        var escaped = ""
        for character in value.unicodeScalars {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    /// Help text escapes only `\` and newline.
    static func escapeHelp(_ help: String) -> String {
        var escaped = ""
        for character in help.unicodeScalars {
            switch character {
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    /// Go's float syntax as Prometheus parses it: `+Inf`, `-Inf`, `NaN`, or a decimal.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "+Inf" : "-Inf" }
        return value.description
    }

    static func isMetricName(_ name: String) -> Bool {
        guard let first = name.utf8.first, isNameStart(first) || first == UInt8(ascii: ":") else { return false }
        return name.utf8.allSatisfy { isNameStart($0) || isDigit($0) || $0 == UInt8(ascii: ":") }
    }

    static func isLabelName(_ name: String) -> Bool {
        guard let first = name.utf8.first, isNameStart(first) else { return false }
        return name.utf8.allSatisfy { isNameStart($0) || isDigit($0) }
    }

    private static func isNameStart(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z")) || byte == UInt8(ascii: "_")
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
}
