/// A command line called wrongly. The message is printed with a hint to `--help`.
struct UsageError: Error {
    var message: String
}

/// One option a command accepts.
struct OptionSpecification: Sendable {
    /// The long name without dashes, e.g. "users-db".
    var name: String
    /// True for `--name VALUE` / `--name=VALUE`, false for a flag.
    var takesValue: Bool
}

/// A tiny parser for `momctl` command lines: long options (`--name value`, `--name=value`),
/// flags, `-h`, positional arguments, and `--` to end options. Unknown or repeated options are
/// usage errors, so a typo never silently changes meaning.
struct ParsedArguments: Sendable {
    private(set) var positionals: [String] = []
    private(set) var values: [String: String] = [:]
    private(set) var flags: Set<String> = []

    /// The most arguments accepted; a bound on the loop.
    static let argumentsMaximum = 1_000

    init(_ arguments: [String], options: [OptionSpecification]) throws(UsageError) {
        if arguments.count > Self.argumentsMaximum {
            throw UsageError(message: "too many arguments (\(arguments.count))")
        }
        let known = Dictionary(options.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        var index = 0
        var optionsEnded = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if optionsEnded || !argument.hasPrefix("-") || argument == "-" {
                positionals.append(argument)
                continue
            }
            if argument == "--" {
                optionsEnded = true
                continue
            }
            if argument == "-h" || argument == "--help" {
                flags.insert("help")
                continue
            }
            guard argument.hasPrefix("--") else { throw UsageError(message: "unknown option '\(argument)'") }
            var name = String(argument.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let specification = known[name] else { throw UsageError(message: "unknown option '--\(name)'") }
            if values[name] != nil || flags.contains(name) {
                throw UsageError(message: "option '--\(name)' is given more than once")
            }
            if !specification.takesValue {
                if inlineValue != nil { throw UsageError(message: "option '--\(name)' takes no value") }
                flags.insert(name)
                continue
            }
            if let inlineValue {
                values[name] = inlineValue
            } else if index < arguments.count {
                values[name] = arguments[index]
                index += 1
            } else {
                throw UsageError(message: "option '--\(name)' needs a value")
            }
        }
    }

    /// True when `--help` or `-h` was given.
    var wantsHelp: Bool { flags.contains("help") }

    /// The value of a required option.
    func required(_ name: String) throws(UsageError) -> String {
        guard let value = values[name], !value.isEmpty else {
            throw UsageError(message: "missing required option '--\(name)'")
        }
        return value
    }

    /// Exactly one positional argument, described as `what` in errors.
    func single(_ what: String) throws(UsageError) -> String {
        if positionals.isEmpty { throw UsageError(message: "missing \(what)") }
        // The extra argument is not echoed: it may be a password typed in the wrong place.
        if positionals.count > 1 {
            throw UsageError(message: "expected one \(what), got \(positionals.count) arguments")
        }
        return positionals[0]
    }

    /// No positional arguments allowed.
    func none() throws(UsageError) {
        if !positionals.isEmpty {
            throw UsageError(message: "this command takes no arguments, got \(positionals.count)")
        }
    }
}
