import MOMClient

/// A failure that is not the server's and not a usage error: a saved login that expired, a
/// line too long on standard input, a file that cannot be written. Exit status 1.
struct RuntimeFailure: Error {
    var message: String
}

/// How the command authenticated, so a 401 can say what to do next.
enum AuthenticationSource: Sendable, Equatable {
    /// No token and no user: the request went without `Authorization`.
    case none
    /// The token saved by `momctl login`, from this file.
    case savedToken(path: String)
    /// `--user` / `MOM_USER` with a password, logged in for this one command.
    case credentials(user: String)
}

/// Maps any error a command throws to its exit status and the line printed on standard error.
/// Pure, so every mapping is tested without a server.
enum ErrorReport {
    static func describe(_ error: any Error, authentication: AuthenticationSource) -> (status: ExitStatus, message: String) {
        switch error {
        case let usage as UsageError:
            return (.usage, usage.message)
        case let failure as RuntimeFailure:
            return (.failure, failure.message)
        case let failure as PasswordInput.Failure:
            return (.failure, failure.message)
        case let client as MOMClientError:
            return describe(client, authentication: authentication)
        default:
            return (.failure, "\(error)")
        }
    }

    static func describe(_ error: MOMClientError, authentication: AuthenticationSource) -> (status: ExitStatus, message: String) {
        switch error {
        case .server(let status, let code, let message):
            var line = "server error \(status) \(code): \(message)"
            if status == 401 { line += "\n" + loginHint(authentication) }
            return (.failure, line)
        case .transport(let detail):
            return (.failure, "cannot reach the server: \(detail); is momd running there? (set it with --server or MOM_SERVER)")
        case .timeout(let detail):
            return (.failure, "the server did not answer in time: \(detail)")
        case .decoding(let detail):
            return (.failure, "the server's answer is not what momctl expects: \(detail)")
        case .invalidArgument(let detail):
            // Raised before anything is sent: a bad --server, a name that cannot be a path.
            return (.usage, detail)
        }
    }

    static func loginHint(_ authentication: AuthenticationSource) -> String {
        switch authentication {
        case .none:
            return "this server needs a login: run 'momctl login --user NAME --password-stdin' first"
        case .savedToken(let path):
            return "the saved login in \(path) is no longer accepted: run 'momctl login --user NAME --password-stdin' again"
        case .credentials(let user):
            return "user '\(Dispatcher.printable(user))' was refused: check the name and password"
        }
    }
}
