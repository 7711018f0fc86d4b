/// One group of subcommands (`momctl user …`). Each group lives in its own file and registers
/// itself in `Dispatcher.standard`, so adding `topic`, `produce` or `queue` touches one line here.
struct CommandGroup: Sendable {
    /// The word after `momctl`.
    var name: String
    /// One line for `momctl --help`.
    var summary: String
    /// Runs the group with the arguments after its name.
    var run: @Sendable (_ arguments: [String], _ console: Console) -> ExitStatus
}

/// Routes `momctl <group> …` to its group and prints top-level help.
struct Dispatcher: Sendable {
    var groups: [CommandGroup]

    /// Every command group momctl has.
    static let standard = Dispatcher(groups: [
        UserCommands.group
    ])

    func run(_ arguments: [String], console: Console) -> ExitStatus {
        guard let first = arguments.first else {
            console.writeError(help)
            return .usage
        }
        if first == "--help" || first == "-h" || first == "help" {
            console.writeOutput(help)
            return .success
        }
        guard let group = groups.first(where: { $0.name == first }) else {
            console.error("unknown command '\(Self.printable(first))'; run 'momctl --help' for the list")
            return .usage
        }
        return group.run(Array(arguments.dropFirst()), console)
    }

    var help: String {
        var text = "usage: momctl <command> [options]\n\ncommands:\n"
        let width = groups.map(\.name.count).max() ?? 0
        for group in groups {
            text += "  " + group.name + String(repeating: " ", count: width - group.name.count + 2)
                + group.summary + "\n"
        }
        text += "\nRun 'momctl <command> --help' for a command's options.\n"
        text += "Exit codes: 0 success, 1 failure, 2 usage error.\n"
        return text
    }

    /// Argument text made safe to echo: control characters become '?', and it is shortened.
    static func printable(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars.prefix(64) {
            result.unicodeScalars.append(scalar.value < 0x20 || scalar.value == 0x7F ? "?" : scalar)
        }
        return result
    }
}
