/// A parsed script command: `name positional... key=value...`, where values may be lists
/// written `(1,2,3)` or `(1 2 3)`.
struct ScriptCommand {
    let name: String
    let positional: [String]
    let keyed: [String: String]

    init(line: String) {
        let tokens = ScriptCommand.tokenize(line)
        name = tokens.first ?? ""
        var positional: [String] = []
        var keyed: [String: String] = [:]
        for token in tokens.dropFirst() {
            if let equals = token.firstIndex(of: "="), !token.hasPrefix("(") {
                keyed[String(token[..<equals])] = String(token[token.index(after: equals)...])
            } else {
                positional.append(token)
            }
        }
        self.positional = positional
        self.keyed = keyed
    }

    /// Splits on spaces outside parentheses.
    static func tokenize(_ line: String) -> [String] {
        var tokens: [String] = []
        var current = ""
        var depth = 0
        for character in line {
            if character == "(" { depth += 1 }
            if character == ")" { depth -= 1 }
            if character == " " && depth == 0 {
                if !current.isEmpty { tokens.append(current) }
                current = ""
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { tokens.append(current) }
        return tokens
    }

    /// `(1,2,3)` or `(1 2 3)` or `1` as numbers.
    static func numbers(_ text: String) throws -> [UInt64] {
        let inner = text.trimming(["(", ")"])
        return try inner.split(whereSeparator: { $0 == "," || $0 == " " }).map { part in
            guard let value = UInt64(part) else { throw ScriptError("not a number: \(part)") }
            return value
        }
    }

    func number(at position: Int) throws -> UInt64 {
        guard position < positional.count, let value = UInt64(positional[position]) else {
            throw ScriptError("\(name): argument \(position + 1) must be a number")
        }
        return value
    }

    func number(_ key: String) throws -> UInt64? {
        guard let text = keyed[key] else { return nil }
        guard let value = UInt64(text) else { throw ScriptError("\(name): \(key) must be a number") }
        return value
    }

    func numbers(_ key: String) throws -> [UInt64]? {
        guard let text = keyed[key] else { return nil }
        return try ScriptCommand.numbers(text)
    }
}

/// A malformed script line: a bug in the script, reported with the line.
struct ScriptError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension String {
    func trimming(_ set: Set<Character>) -> String {
        var text = Substring(self)
        while let first = text.first, set.contains(first) { text.removeFirst() }
        while let last = text.last, set.contains(last) { text.removeLast() }
        return String(text)
    }
}
