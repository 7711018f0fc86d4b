import MOMCore

/// The kinds of named resources, used in validation messages ("queue name …").
enum ResourceKind: String, Sendable {
    case topic, queue, exchange, subscription
}

/// Name rules for topics, queues, exchanges and subscriptions. They follow Kafka's topic rules
/// because names become directory names (`data/<topic>/<partition>/`) and URL path segments:
/// only `[A-Za-z0-9._-]`, 1…249 bytes, never `.` or `..`. The `__` prefix is reserved for
/// internal resources such as `__meta`, so a user can never shadow them.
enum ResourceName {
    /// The suffix of the queue that receives a queue's messages after `max_deliveries`.
    static let deadLetterSuffix = ".dead-letter"

    /// The dead-letter queue name of queue `name`.
    static func deadLetterQueue(of name: String) -> String { name + deadLetterSuffix }

    /// Throws a 400 `ModelError` naming the problem and the fix; returns normally when valid.
    /// `allowInternal` lets the broker itself create `__`-prefixed names.
    static func validate(
        _ name: String, kind: ResourceKind, limits: Limits = .standard, allowInternal: Bool = false
    ) throws(ModelError) {
        let bytes = Array(name.utf8)
        let what = kind.rawValue
        let rules = "use 1 to \(limits.resourceNameBytesMax) characters from A-Z a-z 0-9 . _ -"
        if bytes.isEmpty {
            throw .badRequest("\(what) name is empty; \(rules)")
        }
        if bytes.count > limits.resourceNameBytesMax {
            throw .badRequest("\(what) name is \(bytes.count) bytes, longer than \(limits.resourceNameBytesMax); \(rules)")
        }
        // Specific messages first for the dangerous cases, so the caller learns why.
        if bytes.contains(0) {
            throw .badRequest("\(what) name contains a NUL byte; \(rules)")
        }
        if bytes.contains(UInt8(ascii: "/")) {
            throw .badRequest("\(what) name '\(printable(name))' contains '/'; \(rules)")
        }
        if name == "." || name == ".." {
            throw .badRequest("\(what) name '\(name)' is reserved by the file system; \(rules)")
        }
        if let bad = bytes.first(where: { !isAllowed($0) }) {
            throw .badRequest(
                "\(what) name '\(printable(name))' contains the byte 0x\(String(bad, radix: 16)) which is not allowed; \(rules)")
        }
        if !allowInternal && bytes.starts(with: [UInt8(ascii: "_"), UInt8(ascii: "_")]) {
            throw .badRequest("\(what) name '\(name)' starts with '__', which is reserved for internal use; choose another name")
        }
    }

    static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }

    /// Echoes a rejected name safely: control characters and non-ASCII become '?', and long
    /// names are cut, so an error message never carries terminal escapes or megabytes.
    static func printable(_ name: String) -> String {
        let cut = name.utf8.prefix(64).map { $0 >= 0x20 && $0 < 0x7F ? Character(Unicode.Scalar($0)) : "?" }
        return String(cut) + (name.utf8.count > 64 ? "…" : "")
    }
}
