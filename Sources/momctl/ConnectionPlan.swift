import Foundation

/// Which servers a broker command talks to and how it authenticates, decided from options,
/// environment and the saved login before anything is sent. Pure, so the precedence rules are
/// tested without a server:
/// - servers: `--server`, else `MOM_SERVER`, else the saved login's server, else 127.0.0.1:8080;
/// - auth: `--user` (password from `--password-stdin` or `MOM_PASSWORD`), else `MOM_USER` with
///   `MOM_PASSWORD`, else the saved token (refused once expired), else none.
struct ConnectionPlan: Equatable, Sendable {
    enum Authentication: Equatable, Sendable {
        case none
        case savedToken(token: String, path: String)
        /// Log in for this command; the password comes from standard input or `MOM_PASSWORD`.
        case credentials(user: String, passwordFromStandardInput: Bool)
    }

    static let defaultServer = "http://127.0.0.1:8080"

    var servers: [String]
    var authentication: Authentication

    /// What a 401 hint should mention.
    var source: AuthenticationSource {
        switch authentication {
        case .none: return .none
        case .savedToken(_, let path): return .savedToken(path: path)
        case .credentials(let user, _): return .credentials(user: user)
        }
    }

    static func make(
        options: GlobalOptions, environment: [String: String], savedLogin: SavedLogin?, tokenPath: String,
        nowMilliseconds: Int64
    ) throws -> ConnectionPlan {
        var servers = options.servers
        if servers.isEmpty, let variable = environment["MOM_SERVER"], !variable.isEmpty {
            servers = try GlobalOptions.serverList(variable)
        }
        if servers.isEmpty, let savedLogin { servers = try GlobalOptions.serverList(savedLogin.server) }
        if servers.isEmpty { servers = [defaultServer] }
        return ConnectionPlan(
            servers: servers,
            authentication: try authentication(
                options: options, environment: environment, savedLogin: savedLogin, tokenPath: tokenPath,
                nowMilliseconds: nowMilliseconds))
    }

    private static func authentication(
        options: GlobalOptions, environment: [String: String], savedLogin: SavedLogin?, tokenPath: String,
        nowMilliseconds: Int64
    ) throws -> Authentication {
        if let user = options.user {
            guard !user.isEmpty else { throw UsageError(message: "--user needs a user name") }
            guard options.passwordFromStandardInput || environment["MOM_PASSWORD"] != nil else {
                throw UsageError(message: "--user needs a password: pass --password-stdin or set MOM_PASSWORD")
            }
            return .credentials(user: user, passwordFromStandardInput: options.passwordFromStandardInput)
        }
        if options.passwordFromStandardInput {
            throw UsageError(message: "--password-stdin needs --user NAME")
        }
        if let user = environment["MOM_USER"], !user.isEmpty, environment["MOM_PASSWORD"] != nil {
            return .credentials(user: user, passwordFromStandardInput: false)
        }
        if let savedLogin {
            guard nowMilliseconds < savedLogin.expiresAtMilliseconds else {
                throw RuntimeFailure(message: expiredMessage(savedLogin, path: tokenPath))
            }
            return .savedToken(token: savedLogin.token, path: tokenPath)
        }
        return .none
    }

    static func expiredMessage(_ login: SavedLogin, path: String) -> String {
        let expiry = Date(timeIntervalSince1970: Double(login.expiresAtMilliseconds) / 1000)
        return "the login of user '\(Dispatcher.printable(login.user))' saved in \(path) expired at "
            + ISO8601DateFormatter().string(from: expiry)
            + "; run 'momctl login --user \(Dispatcher.printable(login.user)) --password-stdin' again"
    }
}
