import Glibc
import SystemIO

/// Structured `key=value` log lines with a level, to stderr, where journald collects them:
///
///     ts=2026-11-28T14:03:11.123Z level=info msg="node started" node=1 http=127.0.0.1:8080
///
/// Callers pass fields explicitly; secrets never go in (no field takes a token, password, hash
/// or key; IntegrationTests/LogSecrecyTests checks a real momd's output for them). Each line is
/// one `write(2)`, so lines from different threads never interleave. Values are quoted when
/// they hold anything but printable ASCII without `"` or `=`, and control characters are
/// escaped, so a client-chosen value (a user name) cannot forge a line or a field.
public enum Log {
    public enum Level: String, Sendable { case debug, info, warn, error }

    public static func write(_ level: Level, _ message: String, _ fields: [(String, String)] = []) {
        var line = "ts=\(timestamp()) level=\(level.rawValue) msg=\(quote(message))"
        for (key, value) in fields { line += " \(key)=\(quote(value))" }
        line += "\n"
        let bytes = Array(line.utf8)
        bytes.withUnsafeBytes { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }

    public static func info(_ message: String, _ fields: [(String, String)] = []) { write(.info, message, fields) }
    public static func warn(_ message: String, _ fields: [(String, String)] = []) { write(.warn, message, fields) }
    public static func error(_ message: String, _ fields: [(String, String)] = []) { write(.error, message, fields) }

    static func quote(_ value: String) -> String {
        let plain = !value.isEmpty && value.utf8.allSatisfy { $0 > 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "=") && $0 < 0x7F }
        if plain { return value }
        var escaped = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || (0x80..<0xA0).contains(scalar.value):
                escaped += "\\u{\(String(scalar.value, radix: 16))}"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped + "\""
    }

    /// UTC wall time with milliseconds, RFC 3339 (journald adds its own, plain stderr has none).
    static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(now.tv_nsec / 1_000_000), 3))Z"
    }
}
