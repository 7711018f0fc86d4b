/// `--flag value` pairs after a subcommand (`fuzz`, `decode`): the workloads that parse their
/// own flags share this reading of them.
enum SubcommandFlags {
    /// Why the flags were refused, for the usage message.
    struct Problem: Error {
        let message: String
    }

    /// The flags of `arguments` (the subcommand first), each of them one of `allowed`.
    static func parse(_ arguments: [String], allowed: [String]) throws(Problem) -> [String: String] {
        var flags: [String: String] = [:]
        var index = 1
        while index < arguments.count {
            let flag = arguments[index]
            guard flag.hasPrefix("--"), index + 1 < arguments.count else { throw Problem(message: "bad argument '\(flag)'") }
            flags[flag] = arguments[index + 1]
            index += 2
        }
        if let unknown = flags.keys.sorted().first(where: { !allowed.contains($0) }) { throw Problem(message: "unknown flag \(unknown)") }
        return flags
    }
}
