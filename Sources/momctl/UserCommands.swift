import Auth
import Foundation

/// `momctl user add|list|remove|passwd`: manage the users database directly (`--users-db`).
///
/// These commands open the SQLite file that momd reads, so they run on a broker host as the
/// account that owns the file; they need no running server. Nothing they print contains a
/// password, a salt or a hash.
enum UserCommands {
    static let group = CommandGroup(name: "user", summary: "add, list, remove users or change a password") {
        arguments, context in run(arguments, console: context.console)
    }

    private struct Subcommand: Sendable {
        var name: String
        var usage: String
        var details: String
        var options: [OptionSpecification]
        var run: @Sendable (ParsedArguments, Console) throws -> Void
    }

    private static let usersDatabase = OptionSpecification(name: "users-db", takesValue: true)
    private static let passwordStandardInput = OptionSpecification(name: "password-stdin", takesValue: false)

    private static let subcommands: [Subcommand] = [
        Subcommand(
            name: "add", usage: "momctl user add NAME --users-db FILE --password-stdin [--role \(Role.namesJoined)]",
            details: "Adds a user. The password is read from standard input (one trailing newline is removed).\n"
                + "The role defaults to consumer, the least privileged. The file is created with mode 0600.",
            options: [usersDatabase, passwordStandardInput, OptionSpecification(name: "role", takesValue: true)],
            run: add),
        Subcommand(
            name: "list", usage: "momctl user list --users-db FILE [--output table|json]",
            details: "Lists users with their role and creation time, sorted by name.",
            options: [usersDatabase, OptionSpecification(name: "output", takesValue: true)],
            run: list),
        Subcommand(
            name: "remove", usage: "momctl user remove NAME --users-db FILE",
            details: "Removes a user. Tokens already issued to it stay valid until they expire.",
            options: [usersDatabase],
            run: remove),
        Subcommand(
            name: "passwd", usage: "momctl user passwd NAME --users-db FILE --password-stdin",
            details: "Sets a new password, read from standard input, with a fresh salt.",
            options: [usersDatabase, passwordStandardInput],
            run: changePassword),
    ]

    static var help: String {
        var text = "usage:\n"
        for subcommand in subcommands { text += "  " + subcommand.usage + "\n" }
        text += "\nUser names are 1-64 characters of A-Z a-z 0-9 . _ - (not starting with '-').\n"
        text += "Roles: admin (everything), producer (publish), consumer (read, receive, ack, commit).\n"
        return text
    }

    static func run(_ arguments: [String], console: Console) -> ExitStatus {
        guard let name = arguments.first, !name.hasPrefix("-") else {
            if arguments.first == "--help" || arguments.first == "-h" {
                console.writeOutput(help)
                return .success
            }
            console.writeError(help)
            return .usage
        }
        guard let subcommand = subcommands.first(where: { $0.name == name }) else {
            console.error("unknown command 'user \(Dispatcher.printable(name))'; run 'momctl user --help'")
            return .usage
        }
        let parsed: ParsedArguments
        do {
            parsed = try ParsedArguments(Array(arguments.dropFirst()), options: subcommand.options)
        } catch {
            console.error("\(error.message)\nusage: \(subcommand.usage)")
            return .usage
        }
        if parsed.wantsHelp {
            console.writeOutput("usage: \(subcommand.usage)\n\n\(subcommand.details)\n")
            return .success
        }
        do {
            try subcommand.run(parsed, console)
            return .success
        } catch let error as UsageError {
            console.error("\(error.message)\nusage: \(subcommand.usage)")
            return .usage
        } catch UserStoreError.invalidName(let reason) {
            console.error("invalid user name: \(reason)\nusage: \(subcommand.usage)")
            return .usage
        } catch let error as PasswordInput.Failure {
            console.error(error.message)
            return .failure
        } catch {
            console.error("\(error)")
            return .failure
        }
    }

    private static func openStore(_ parsed: ParsedArguments, console: Console, creating: Bool) throws -> UserStore {
        let path = try parsed.required("users-db")
        let store = try UserStore(path: path, createIfMissing: creating, clock: WallClock())
        if let mode = store.repairedFileMode {
            console.error("warning: '\(path)' had mode 0\(String(mode, radix: 8)); changed it to 0600")
        }
        return store
    }

    private static func readPassword(_ parsed: ParsedArguments, console: Console) throws -> String {
        guard parsed.flags.contains("password-stdin") else {
            throw UsageError(message: "give the password on standard input with --password-stdin")
        }
        return try PasswordInput.read(descriptor: console.inputDescriptor, console: console)
    }

    private static func add(_ parsed: ParsedArguments, console: Console) throws {
        let name = try parsed.single("user name")
        _ = try UserName(name)
        let roleName = parsed.values["role"] ?? Role.consumer.rawValue
        guard let role = Role(rawValue: roleName) else {
            throw UsageError(message: "unknown role '\(Dispatcher.printable(roleName))'; use one of \(Role.namesJoined)")
        }
        _ = try parsed.required("users-db")
        let password = try readPassword(parsed, console: console)
        let store = try openStore(parsed, console: console, creating: true)
        try store.add(name: name, password: password, role: role)
        console.output("added user '\(name)' with role \(role.rawValue)")
    }

    private static func list(_ parsed: ParsedArguments, console: Console) throws {
        try parsed.none()
        let format = parsed.values["output"] ?? "table"
        guard format == "table" || format == "json" else {
            throw UsageError(message: "unknown output format '\(Dispatcher.printable(format))'; use table or json")
        }
        let users = try openStore(parsed, console: console, creating: false).list()
        console.writeOutput(format == "json" ? UserListFormat.json(users) : UserListFormat.table(users))
    }

    private static func remove(_ parsed: ParsedArguments, console: Console) throws {
        let name = try parsed.single("user name")
        try openStore(parsed, console: console, creating: false).remove(name: name)
        console.output("removed user '\(name)'")
    }

    private static func changePassword(_ parsed: ParsedArguments, console: Console) throws {
        let name = try parsed.single("user name")
        _ = try UserName(name)
        _ = try parsed.required("users-db")
        let password = try readPassword(parsed, console: console)
        try openStore(parsed, console: console, creating: false).setPassword(name: name, password: password)
        console.output("changed the password of user '\(name)'")
    }
}

/// How `momctl user list` prints users.
enum UserListFormat {
    /// `{"users":[{"created_ms":…,"name":…,"role":…}]}` on one line.
    static func json(_ users: [UserSummary]) -> String {
        let objects: [[String: Any]] = users.map {
            ["name": $0.name, "role": $0.role.rawValue, "created_ms": $0.createdMilliseconds]
        }
        let data = (try? JSONSerialization.data(withJSONObject: ["users": objects], options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Aligned columns with a header; an empty list prints the header only.
    static func table(_ users: [UserSummary]) -> String {
        let formatter = ISO8601DateFormatter()
        let rows = [("NAME", "ROLE", "CREATED")] + users.map {
            ($0.name, $0.role.rawValue,
             formatter.string(from: Date(timeIntervalSince1970: Double($0.createdMilliseconds) / 1000)))
        }
        let nameWidth = rows.map(\.0.count).max() ?? 0
        let roleWidth = rows.map(\.1.count).max() ?? 0
        return rows.map { row in
            row.0.padding(toLength: nameWidth + 2, withPad: " ", startingAt: 0)
                + row.1.padding(toLength: roleWidth + 2, withPad: " ", startingAt: 0) + row.2
        }.joined(separator: "\n") + "\n"
    }
}
