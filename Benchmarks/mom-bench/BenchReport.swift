import Glibc
import MOMCore
import SystemIO

/// Results of one workload, printed for people and, with `--json`, as one JSON object on the
/// last stdout line. Values keep insertion order so the output reads like the run.
struct BenchReport {
    enum Value {
        case integer(Int)
        case number(Double)
        case text(String)
        case flag(Bool)
    }

    private(set) var fields: [(String, Value)] = []

    mutating func set(_ key: String, _ value: Int) { fields.append((key, .integer(value))) }
    mutating func set(_ key: String, _ value: Double) { fields.append((key, .number(value))) }
    mutating func set(_ key: String, _ value: String) { fields.append((key, .text(value))) }
    mutating func set(_ key: String, _ value: Bool) { fields.append((key, .flag(value))) }

    /// Adds `p50_us`, `p99_us`, `p999_us` and `max_us` from a histogram of nanoseconds.
    mutating func setLatency(_ histogram: LatencyHistogram, prefix: String = "") {
        set(prefix + "p50_us", Double(histogram.percentile(0.50)) / 1000)
        set(prefix + "p99_us", Double(histogram.percentile(0.99)) / 1000)
        set(prefix + "p999_us", Double(histogram.percentile(0.999)) / 1000)
        set(prefix + "max_us", Double(histogram.maxNanoseconds) / 1000)
    }

    func printHuman() {
        for (key, value) in fields { writeOutput("\(key.padding(to: 22)) \(Self.render(value))\n") }
    }

    func printJSON() {
        let body = fields.map { "\"\($0.0)\":\(Self.renderJSON($0.1))" }.joined(separator: ",")
        writeOutput("{\(body)}\n")
    }

    static func render(_ value: Value) -> String {
        switch value {
        case .integer(let number): return String(number)
        case .number(let number): return format(number)
        case .text(let text): return text
        case .flag(let flag): return String(flag)
        }
    }

    static func renderJSON(_ value: Value) -> String {
        switch value {
        case .integer(let number): return String(number)
        case .number(let number): return number.isFinite ? format(number) : "null"
        case .flag(let flag): return String(flag)
        case .text(let text):
            var escaped = ""
            for scalar in text.unicodeScalars {
                switch scalar {
                case "\"": escaped += "\\\""
                case "\\": escaped += "\\\\"
                case "\n": escaped += "\\n"
                default:
                    if scalar.value < 0x20 { escaped += "\\u00" + String(scalar.value, radix: 16).padding(to: 2, with: "0", left: true) }
                    else { escaped.unicodeScalars.append(scalar) }
                }
            }
            return "\"\(escaped)\""
        }
    }

    /// Three decimals, without Foundation's formatter.
    static func format(_ number: Double) -> String {
        let scaled = (number * 1000).rounded()
        guard abs(scaled) < 9e15 else { return String(number) }
        let whole = Int64(scaled)
        let sign = whole < 0 ? "-" : ""
        let magnitude = whole.magnitude
        let fraction = String(magnitude % 1000).padding(to: 3, with: "0", left: true)
        return "\(sign)\(magnitude / 1000).\(fraction)"
    }
}

extension String {
    func padding(to width: Int, with pad: Character = " ", left: Bool = false) -> String {
        guard count < width else { return self }
        let fill = String(repeating: pad, count: width - count)
        return left ? fill + self : self + fill
    }
}

/// A progress line on stderr, redrawn at most every half second, so stdout stays clean for
/// `--json` and for `--report-durable` readers.
struct ProgressLine {
    let label: String
    let total: Int
    let clock = SystemClock()
    let startNanoseconds: UInt64
    var lastDrawNanoseconds: UInt64 = 0

    init(label: String, total: Int) {
        self.label = label
        self.total = total
        startNanoseconds = clock.monotonicNanoseconds()
    }

    mutating func update(done: Int) {
        let now = clock.monotonicNanoseconds()
        guard now - lastDrawNanoseconds >= 500_000_000 else { return }
        lastDrawNanoseconds = now
        let seconds = Double(now - startNanoseconds) / 1e9
        let rate = seconds > 0 ? Double(done) / seconds : 0
        writeError("\r\(label): \(done)/\(total) msgs, \(BenchReport.format(rate)) msgs/s   ")
    }

    func finish(done: Int) {
        let seconds = Double(clock.monotonicNanoseconds() - startNanoseconds) / 1e9
        writeError("\r\(label): \(done) msgs in \(BenchReport.format(seconds)) s\u{1B}[K\n")
    }
}

/// Unbuffered writes: stdout carries `durable <offset>` lines that a reader (the kill -9 test)
/// must see the moment they are printed, and stdio buffering would hold them back.
func writeOutput(_ text: String) { writeAll(1, text) }

func writeError(_ text: String) { writeAll(2, text) }

func writeAll(_ descriptor: Int32, _ text: String) {
    let bytes = Array(text.utf8)
    bytes.withUnsafeBytes { raw in
        var done = 0
        // Bounded: each round writes at least one byte or gives up.
        while done < raw.count {
            let count = Glibc.write(descriptor, raw.baseAddress! + done, raw.count - done)
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { return }
            done += count
        }
    }
}
