/// A strict parser of the Prometheus text exposition format 0.0.4, written for the tests: it
/// accepts only what the format allows and checks what a scraper would choke on (names, label
/// syntax and escapes, HELP/TYPE placement, contiguous families, duplicate series, histogram
/// buckets that are cumulative and end with `+Inf` equal to `_count`, `_sum` and `_count`).
struct ExpositionParser {
    struct Failure: Error, CustomStringConvertible {
        let line: Int
        let message: String
        var description: String { "line \(line): \(message)" }
    }

    struct Sample: Equatable {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    struct Family {
        let name: String
        var type = "untyped"
        var help: String?
        var samples: [Sample] = []
    }

    static let types: Set<String> = ["counter", "gauge", "histogram", "summary", "untyped"]

    private(set) var families: [Family] = []
    private var familyIndex: [String: Int] = [:]
    private var closedFamilies: Set<String> = []
    private var seriesSeen: Set<String> = []
    private var lineNumber = 0

    /// Parses `text` or throws the first violation.
    static func parse(_ text: String) throws(Failure) -> [Family] {
        var parser = ExpositionParser()
        try parser.run(text)
        return parser.families
    }

    private mutating func run(_ text: String) throws(Failure) {
        guard text.isEmpty || text.hasSuffix("\n") else { throw Failure(line: 0, message: "the exposition must end with a newline") }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        for line in lines {
            lineNumber += 1
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                try comment(Substring(line))
            } else {
                try sample(Substring(line))
            }
        }
        for family in families where family.type == "histogram" { try checkHistogram(family) }
    }

    private func fail(_ message: String) -> Failure { Failure(line: lineNumber, message: message) }

    // MARK: Comments

    private mutating func comment(_ line: Substring) throws(Failure) {
        let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[0] == "#", parts[1] == "HELP" || parts[1] == "TYPE" else { return }
        let name = String(parts[2])
        guard Self.isMetricName(name) else { throw fail("bad metric name '\(name)' in \(parts[1])") }
        let rest = parts.count > 3 ? String(parts[3]) : ""
        let index = try openFamily(name)
        if parts[1] == "HELP" {
            guard families[index].help == nil else { throw fail("second HELP for \(name)") }
            families[index].help = try Self.unescape(rest, allowQuote: false, line: lineNumber)
        } else {
            guard Self.types.contains(rest) else { throw fail("unknown type '\(rest)' for \(name)") }
            guard families[index].samples.isEmpty else { throw fail("TYPE for \(name) after its samples") }
            guard !typed.contains(name) else { throw fail("second TYPE for \(name)") }
            typed.insert(name)
            families[index].type = rest
        }
    }

    private var typed: Set<String> = []

    /// The family `name`, opened now if new; a family that another one followed cannot reopen.
    private mutating func openFamily(_ name: String) throws(Failure) -> Int {
        if let index = familyIndex[name] {
            guard index == families.count - 1 else { throw fail("family \(name) is not contiguous") }
            return index
        }
        guard !closedFamilies.contains(name) else { throw fail("family \(name) reopened") }
        if let last = families.last { closedFamilies.insert(last.name) }
        families.append(Family(name: name))
        familyIndex[name] = families.count - 1
        return families.count - 1
    }

    // MARK: Samples

    private mutating func sample(_ line: Substring) throws(Failure) {
        var cursor = line.startIndex
        while cursor < line.endIndex, line[cursor] != "{", line[cursor] != " " { cursor = line.index(after: cursor) }
        let name = String(line[line.startIndex..<cursor])
        guard Self.isMetricName(name) else { throw fail("bad metric name '\(name)'") }
        var labels: [String: String] = [:]
        if cursor < line.endIndex, line[cursor] == "{" {
            labels = try parseLabels(line, &cursor)
        }
        guard cursor < line.endIndex, line[cursor] == " " else { throw fail("expected a space before the value") }
        let fields = line[line.index(after: cursor)...].split(separator: " ", omittingEmptySubsequences: false)
        guard fields.count == 1 || fields.count == 2 else { throw fail("expected a value and an optional timestamp") }
        guard let value = Self.parseValue(fields[0]) else { throw fail("bad value '\(fields[0])'") }
        if fields.count == 2, Int64(fields[1]) == nil { throw fail("bad timestamp '\(fields[1])'") }
        try addSample(Sample(name: name, labels: labels, value: value))
    }

    private mutating func addSample(_ sample: Sample) throws(Failure) {
        let familyName = families.last.flatMap { family in Self.belongs(sample.name, to: family) ? family.name : nil } ?? sample.name
        for suffix in ["_bucket", "_sum", "_count"] where familyName == sample.name && sample.name.hasSuffix(suffix) {
            let base = String(sample.name.dropLast(suffix.count))
            if let earlier = familyIndex[base], Self.belongs(sample.name, to: families[earlier]) {
                throw fail("\(sample.name) is separated from its family \(base)")
            }
        }
        let index = try openFamily(familyName)
        let family = families[index]
        if family.type == "histogram" {
            if sample.name.hasSuffix("_bucket") {
                guard let bound = sample.labels["le"], Self.parseValue(Substring(bound)) != nil else { throw fail("bucket without a numeric le") }
            } else if sample.labels["le"] != nil {
                throw fail("le on a histogram's \(sample.name)")
            }
        }
        if family.type == "counter", !(sample.value >= 0) { throw fail("counter \(sample.name) is negative or NaN") }
        let key = sample.name + "{" + sample.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "\u{0}") + "}"
        guard seriesSeen.insert(key).inserted else { throw fail("duplicate series \(key)") }
        families[index].samples.append(sample)
    }

    /// Whether a sample name belongs to a declared family: the name itself, or a histogram's
    /// `_bucket`/`_sum`/`_count` (a summary's `_sum`/`_count`).
    static func belongs(_ sample: String, to family: Family) -> Bool {
        switch family.type {
        case "histogram": return [family.name + "_bucket", family.name + "_sum", family.name + "_count"].contains(sample)
        case "summary": return [family.name, family.name + "_sum", family.name + "_count"].contains(sample)
        default: return sample == family.name
        }
    }

    private func parseLabels(_ line: Substring, _ cursor: inout Substring.Index) throws(Failure) -> [String: String] {
        var labels: [String: String] = [:]
        cursor = line.index(after: cursor)
        while true {
            guard cursor < line.endIndex else { throw fail("unterminated label set") }
            if line[cursor] == "}" { cursor = line.index(after: cursor); return labels }
            let nameStart = cursor
            while cursor < line.endIndex, line[cursor] != "=" { cursor = line.index(after: cursor) }
            let name = String(line[nameStart..<cursor])
            guard Self.isLabelName(name) else { throw fail("bad label name '\(name)'") }
            cursor = line.index(after: cursor)
            guard cursor < line.endIndex, line[cursor] == "\"" else { throw fail("label \(name) value is not quoted") }
            cursor = line.index(after: cursor)
            let valueStart = cursor
            var escaped = false
            while cursor < line.endIndex, escaped || line[cursor] != "\"" {
                escaped = !escaped && line[cursor] == "\\"
                cursor = line.index(after: cursor)
            }
            guard cursor < line.endIndex else { throw fail("unterminated value of label \(name)") }
            let value = try Self.unescape(String(line[valueStart..<cursor]), allowQuote: true, line: lineNumber)
            guard labels.updateValue(value, forKey: name) == nil else { throw fail("label \(name) given twice") }
            cursor = line.index(after: cursor)
            guard cursor < line.endIndex else { throw fail("unterminated label set") }
            if line[cursor] == "," { cursor = line.index(after: cursor) } else if line[cursor] != "}" { throw fail("expected , or } after label \(name)") }
        }
    }

    // MARK: Histograms

    private func checkHistogram(_ family: Family) throws(Failure) {
        var groups: [String: (buckets: [(Double, Double)], sum: Double?, count: Double?)] = [:]
        for sample in family.samples {
            var rest = sample.labels
            let bound = rest.removeValue(forKey: "le")
            let key = rest.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            var group = groups[key] ?? ([], nil, nil)
            if sample.name.hasSuffix("_bucket") {
                group.buckets.append((Self.parseValue(Substring(bound!))!, sample.value))
            } else if sample.name.hasSuffix("_sum") {
                group.sum = sample.value
            } else {
                group.count = sample.value
            }
            groups[key] = group
        }
        for (key, group) in groups {
            let where_ = "\(family.name){\(key)}"
            guard let count = group.count else { throw Failure(line: 0, message: "\(where_) has no _count") }
            guard group.sum != nil else { throw Failure(line: 0, message: "\(where_) has no _sum") }
            guard let infinite = group.buckets.first(where: { $0.0 == .infinity }) else { throw Failure(line: 0, message: "\(where_) has no +Inf bucket") }
            guard infinite.1 == count else { throw Failure(line: 0, message: "\(where_): +Inf bucket \(infinite.1) != _count \(count)") }
            let sorted = group.buckets.sorted { $0.0 < $1.0 }
            for (lower, upper) in zip(sorted, sorted.dropFirst()) {
                guard lower.0 < upper.0 else { throw Failure(line: 0, message: "\(where_): bucket le=\(lower.0) repeated") }
                guard lower.1 <= upper.1 else { throw Failure(line: 0, message: "\(where_): buckets not cumulative at le=\(upper.0)") }
            }
        }
    }

    // MARK: Lexical

    static func isMetricName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCIILetter || first == "_" || first == ":" else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCIILetter || $0 == "_" || $0 == ":" || ("0"..."9").contains($0) }
    }

    static func isLabelName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first.isASCIILetter || first == "_" else { return false }
        return name.unicodeScalars.allSatisfy { $0.isASCIILetter || $0 == "_" || ("0"..."9").contains($0) }
    }

    /// Go float syntax as Prometheus reads it: decimal or exponent form, or ±Inf / NaN.
    static func parseValue(_ text: Substring) -> Double? {
        switch text {
        case "+Inf", "Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default:
            guard !text.isEmpty, text.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) || ".eE+-".unicodeScalars.contains($0) }) else { return nil }
            return Double(text)
        }
    }

    /// Label values allow `\\`, `\"` and `\n`; help text allows `\\` and `\n`. Anything else after
    /// a backslash is malformed.
    static func unescape(_ text: String, allowQuote: Bool, line: Int) throws(Failure) -> String {
        var result = ""
        var escaping = false
        for scalar in text.unicodeScalars {
            if escaping {
                switch scalar {
                case "\\": result += "\\"
                case "n": result += "\n"
                case "\"" where allowQuote: result += "\""
                default: throw Failure(line: line, message: "bad escape \\\(scalar)")
                }
                escaping = false
            } else if scalar == "\\" {
                escaping = true
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        guard !escaping else { throw Failure(line: line, message: "dangling backslash") }
        return result
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}

extension [ExpositionParser.Family] {
    /// The samples named `name` whose labels include `labels`.
    func samples(_ name: String, _ labels: [String: String] = [:]) -> [ExpositionParser.Sample] {
        flatMap(\.samples).filter { sample in sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value } }
    }

    /// The one sample named `name` with `labels`, or nil.
    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        let found = samples(name, labels)
        return found.count == 1 ? found[0].value : nil
    }
}
