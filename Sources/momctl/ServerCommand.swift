import Dispatch
import Foundation

/// One command that talks to a broker (`topic create`, `produce`, …): its help text, its own
/// options, and what it does. Connection options (`--server`, `--token-file`, `--user`,
/// `--password-stdin`) and, for read commands, `--output` are accepted by every such command.
struct ServerSubcommand: Sendable {
    var name: String
    var usage: String
    var details: String
    var options: [OptionSpecification] = []
    /// Whether it prints data and so accepts `--output table|json`.
    var readsOutput = false
    var run: @Sendable (Invocation) async throws -> Void
}

/// A parsed call of a `ServerSubcommand`: arguments, merged options and the session, opened on
/// first use (so `--help` and usage errors never touch the network or the token file).
final class Invocation: @unchecked Sendable {
    let arguments: ParsedArguments
    let options: GlobalOptions
    let output: OutputFormat
    let context: CommandContext
    private let lock = NSLock()
    private var opened: Session?

    init(arguments: ParsedArguments, options: GlobalOptions, output: OutputFormat, context: CommandContext) {
        self.arguments = arguments
        self.options = options
        self.output = output
        self.context = context
    }

    var console: Console { context.console }

    func session() throws -> Session {
        if let opened = lock.withLock({ opened }) { return opened }
        let session = try Session.open(options: options, context: context)
        lock.withLock { opened = session }
        return session
    }

    /// How the session authenticated, for the 401 hint (none before it is opened).
    var authentication: AuthenticationSource { lock.withLock { opened?.plan.source ?? .none } }
}

/// Builds `CommandGroup`s out of `ServerSubcommand`s: parsing, `--help`, running the async
/// body to completion, and turning errors into messages and exit codes.
enum ServerCommandGroup {
    static let outputOption = OptionSpecification(name: "output", takesValue: true)

    /// A group with subcommands: `momctl topic create|list|…`.
    static func make(name: String, summary: String, subcommands: [ServerSubcommand]) -> CommandGroup {
        CommandGroup(name: name, summary: summary) { arguments, context in
            let help = groupHelp(name, subcommands)
            guard let word = arguments.first, !word.hasPrefix("-") else {
                if arguments.first == "--help" || arguments.first == "-h" {
                    context.console.writeOutput(help)
                    return .success
                }
                context.console.writeError(help)
                return .usage
            }
            guard let subcommand = subcommands.first(where: { $0.name == word }) else {
                context.console.error("unknown command '\(name) \(Dispatcher.printable(word))'; run 'momctl \(name) --help'")
                return .usage
            }
            return await run(subcommand, Array(arguments.dropFirst()), context)
        }
    }

    /// A command without subcommands: `momctl produce …`.
    static func single(_ command: ServerSubcommand, summary: String) -> CommandGroup {
        CommandGroup(name: command.name, summary: summary) { arguments, context in
            await run(command, arguments, context)
        }
    }

    static func groupHelp(_ name: String, _ subcommands: [ServerSubcommand]) -> String {
        var text = "usage:\n"
        for subcommand in subcommands { text += "  " + subcommand.usage + "\n" }
        text += "\nRun 'momctl \(name) <command> --help' for details.\n"
        return text
    }

    static func run(_ command: ServerSubcommand, _ arguments: [String], _ context: CommandContext) async -> ExitStatus {
        let console = context.console
        let invocation: Invocation
        do throws(UsageError) {
            let specifications = command.options + GlobalOptions.specifications + (command.readsOutput ? [outputOption] : [])
            let parsed = try ParsedArguments(arguments, options: specifications)
            if parsed.wantsHelp {
                console.writeOutput("usage: \(command.usage)\n\n\(command.details)\n")
                return .success
            }
            let options = try context.globals.merged(with: parsed)
            let output = try OutputFormat.parse(command.readsOutput ? options.output : nil)
            invocation = Invocation(arguments: parsed, options: options, output: output, context: context)
        } catch {
            console.error("\(error.message)\nusage: \(command.usage)")
            return .usage
        }
        do {
            try await command.run(invocation)
            return .success
        } catch {
            let (status, message) = ErrorReport.describe(error, authentication: invocation.authentication)
            console.error(status == .usage ? "\(message)\nusage: \(command.usage)" : message)
            return status
        }
    }
}

