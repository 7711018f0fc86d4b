/// One group of subcommands (`momctl user …`). Each group lives in its own file and registers
/// itself in `Dispatcher.standard`, so adding a group touches one line here.
struct CommandGroup: Sendable {
    /// The word after `momctl`.
    var name: String
    /// One line for `momctl --help`.
    var summary: String
    /// Runs the group with the arguments after its name.
    var run: @Sendable (_ arguments: [String], _ context: CommandContext) async -> ExitStatus
}

/// Routes `momctl [global options] <group> …` to its group and prints top-level help.
struct Dispatcher: Sendable {
    var groups: [CommandGroup]

    /// Every command group momctl has, in the order `momctl --help` lists them.
    static let standard = Dispatcher(groups: [
        LoginCommands.login, LoginCommands.logout,
        TopicCommands.group, ProduceCommand.group, ConsumeCommand.group,
        QueueCommands.group, ExchangeCommands.group, SubscriptionCommands.group,
        ClusterCommands.group, NodeCommands.group, UserCommands.group,
    ])

    func run(_ arguments: [String], console: Console, environment: [String: String]) async -> ExitStatus {
        let globals: GlobalOptions
        let rest: [String]
        do {
            (globals, rest) = try GlobalOptions.split(arguments)
        } catch {
            console.error("\(error.message); run 'momctl --help'")
            return .usage
        }
        guard let first = rest.first else {
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
        let context = CommandContext(console: console, globals: globals, environment: environment)
        return await group.run(Array(rest.dropFirst()), context)
    }

    var help: String {
        var text = "usage: momctl [--server URL[,URL…]] [--token-file FILE] [--output table|json] <command> [options]\n\n"
        text += "commands:\n"
        let width = groups.map(\.name.count).max() ?? 0
        for group in groups {
            text += "  " + group.name + String(repeating: " ", count: width - group.name.count + 2)
                + group.summary + "\n"
        }
        text += """

            Run 'momctl <command> --help' for a command's options.
            The server defaults to MOM_SERVER, then the server of the last login, then http://127.0.0.1:8080.
            Log in once with 'momctl login --user NAME --password-stdin'; later commands use the saved token
            (MOM_TOKEN_FILE or --token-file; default $XDG_CONFIG_HOME/mom/token or ~/.config/mom/token).
            --user NAME with --password-stdin or MOM_PASSWORD logs in for one command without saving a token.
            Exit codes: 0 success, 1 runtime or server error, 2 usage error.

            """
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
