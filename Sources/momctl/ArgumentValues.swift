import Foundation
import MOMCore

/// Typed option values with the range in the error message, so `--partitions abc` says what
/// is accepted instead of failing later on the server.
extension ParsedArguments {
    /// An integer option within `range`, or nil when absent.
    func integer(_ name: String, in range: ClosedRange<Int>) throws(UsageError) -> Int? {
        guard let text = values[name] else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw UsageError(message: "--\(name) must be an integer from \(range.lowerBound) to \(range.upperBound), got '\(Dispatcher.printable(text))'")
        }
        return value
    }

    /// A non-negative integer option up to `maximum`, or nil when absent.
    func unsigned(_ name: String, maximum: UInt64 = UInt64(Int64.max)) throws(UsageError) -> UInt64? {
        guard let text = values[name] else { return nil }
        guard let value = UInt64(text), value <= maximum else {
            throw UsageError(message: "--\(name) must be an integer from 0 to \(maximum), got '\(Dispatcher.printable(text))'")
        }
        return value
    }

    /// Exactly `names.count` positional arguments, named in the error when some are missing.
    func exactly(_ names: [String]) throws(UsageError) -> [String] {
        if positionals.count < names.count {
            throw UsageError(message: "missing \(names[positionals.count...].joined(separator: " and "))")
        }
        if positionals.count > names.count {
            throw UsageError(message: "expected \(names.joined(separator: " and ")), got \(positionals.count) arguments")
        }
        return positionals
    }

    /// One of `choices` for option `name`, `fallback` when absent.
    func choice(_ name: String, of choices: [String], default fallback: String) throws(UsageError) -> String {
        let value = values[name] ?? fallback
        guard choices.contains(value) else {
            throw UsageError(message: "--\(name) must be one of \(choices.joined(separator: ", ")), got '\(Dispatcher.printable(value))'")
        }
        return value
    }
}

extension ParsedArguments {
    /// A comma-separated list of node IDs (`--replicas 1,2,4`), required.
    func nodeList(_ name: String) throws(UsageError) -> [NodeID] {
        let text = try required(name)
        var nodes: [NodeID] = []
        for part in text.split(separator: ",", omittingEmptySubsequences: false) {
            guard let id = UInt64(part.trimmingCharacters(in: .whitespaces)), id > 0 else {
                throw UsageError(message: "--\(name) must be node IDs separated by commas, like 1,2,4; got '\(Dispatcher.printable(text))'")
            }
            nodes.append(NodeID(id))
        }
        return nodes
    }
}
