/// How read commands print: aligned tables for people, JSON for scripts.
enum OutputFormat: String, Sendable {
    case table
    case json

    /// Parses `--output`; anything but table or json is a usage error naming both.
    static func parse(_ text: String?) throws(UsageError) -> OutputFormat {
        guard let text else { return .table }
        guard let format = OutputFormat(rawValue: text) else {
            throw UsageError(message: "unknown output format '\(Dispatcher.printable(text))'; use table or json")
        }
        return format
    }
}

/// The options that may come before the command (`momctl --server URL topic list`) and, for
/// the commands that talk to a broker, after it too. A value given after the command wins.
struct GlobalOptions: Sendable, Equatable {
    /// Broker addresses (`--server`, repeatable or comma-separated), tried in order on failure.
    var servers: [String] = []
    var tokenFile: String?
    var user: String?
    var passwordFromStandardInput = false
    var output: String?

    /// The options every broker command accepts, in `ParsedArguments` form.
    static let specifications: [OptionSpecification] = [
        OptionSpecification(name: "server", takesValue: true),
        OptionSpecification(name: "token-file", takesValue: true),
        OptionSpecification(name: "user", takesValue: true),
        OptionSpecification(name: "password-stdin", takesValue: false),
    ]

    /// Splits `arguments` into the leading global options and the rest (command first).
    /// `--help` before a command is left in the rest, so the dispatcher prints its help.
    static func split(_ arguments: [String]) throws(UsageError) -> (options: GlobalOptions, rest: [String]) {
        var options = GlobalOptions()
        var index = 0
        while index < arguments.count, arguments[index].hasPrefix("--"), arguments[index] != "--help" {
            var name = String(arguments[index].dropFirst(2))
            var value: String?
            if let equals = name.firstIndex(of: "=") {
                value = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            index += 1
            if name == "password-stdin" {
                if value != nil { throw UsageError(message: "option '--password-stdin' takes no value") }
                options.passwordFromStandardInput = true
                continue
            }
            guard ["server", "token-file", "user", "output"].contains(name) else {
                throw UsageError(message: "unknown option '--\(Dispatcher.printable(name))' before the command")
            }
            if value == nil {
                guard index < arguments.count else { throw UsageError(message: "option '--\(name)' needs a value") }
                value = arguments[index]
                index += 1
            }
            try options.set(name, value ?? "")
        }
        return (options, Array(arguments[index...]))
    }

    private mutating func set(_ name: String, _ value: String) throws(UsageError) {
        switch name {
        case "server": servers += try Self.serverList(value)
        case "token-file": tokenFile = value
        case "user": user = value
        default: output = value
        }
    }

    /// `a,b` → `["a", "b"]`; an empty entry is a usage error.
    static func serverList(_ text: String) throws(UsageError) -> [String] {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingWhitespace() }
        if parts.contains(where: \.isEmpty) {
            throw UsageError(message: "--server takes URL[,URL…], e.g. http://127.0.0.1:8080")
        }
        return parts
    }

    /// These options overridden by the ones given after the command.
    func merged(with parsed: ParsedArguments) throws(UsageError) -> GlobalOptions {
        var result = self
        if let server = parsed.values["server"] { result.servers = try Self.serverList(server) }
        if let file = parsed.values["token-file"] { result.tokenFile = file }
        if let user = parsed.values["user"] { result.user = user }
        if parsed.flags.contains("password-stdin") { result.passwordFromStandardInput = true }
        if let output = parsed.values["output"] { result.output = output }
        return result
    }
}

extension Substring {
    /// The text without leading and trailing spaces and tabs.
    func trimmingWhitespace() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
