import Foundation

/// Runs a golden script (etcd's datadriven format): each command line is followed by `----` and
/// its expected output, ended by a blank line. Lines starting with `#` are comments.
/// With `MOM_REWRITE=1` the expected outputs are replaced by the actual ones.
struct ScriptRunner {
    struct Mismatch: CustomStringConvertible {
        let line: Int
        let command: String
        let expected: [String]
        let actual: [String]
        var description: String {
            "line \(line): \(command)\n--- expected\n\(expected.joined(separator: "\n"))\n--- actual\n\(actual.joined(separator: "\n"))"
        }
    }

    /// Runs `text` against a fresh environment; returns the rewritten script and any mismatches.
    static func run(_ text: String, seed: UInt64) throws -> (rewritten: String, mismatches: [Mismatch]) {
        let environment = InteractionEnvironment(seed: seed)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var output: [String] = []
        var mismatches: [Mismatch] = []
        var position = 0
        while position < lines.count {
            let line = lines[position]
            position += 1
            if line.isEmpty || line.hasPrefix("#") {
                output.append(line)
                continue
            }
            guard position < lines.count, lines[position] == "----" else {
                throw ScriptError("line \(position): command '\(line)' is not followed by ----")
            }
            position += 1
            var expected: [String] = []
            while position < lines.count && !lines[position].isEmpty {
                expected.append(lines[position])
                position += 1
            }
            var actual = try environment.run(ScriptCommand(line: line))
            if actual.isEmpty { actual = ["ok"] }
            if actual != expected {
                mismatches.append(Mismatch(line: position - expected.count - 1, command: line, expected: expected, actual: actual))
            }
            output.append(line)
            output.append("----")
            output.append(contentsOf: actual)
            if position >= lines.count { output.append("") }
        }
        return (output.joined(separator: "\n"), mismatches)
    }
}
