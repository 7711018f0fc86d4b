import Glibc
import SystemIO

/// Structured `key=value` log lines with a level, to stderr, where journald collects them.
/// Callers pass fields explicitly; secrets never go in (no field takes a token or password).
public enum Log {
    public enum Level: String, Sendable { case debug, info, warn, error }

    public static func write(_ level: Level, _ message: String, _ fields: [(String, String)] = []) {
        var line = "level=\(level.rawValue) msg=\(quote(message))"
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
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped + "\""
    }
}
