import Foundation
import MOMClient

/// `momctl login` and `momctl logout`: the saved token that later commands use.
enum LoginCommands {
    static let login = ServerCommandGroup.single(
        ServerSubcommand(
            name: "login", usage: "momctl login [--server URL] --user NAME --password-stdin [--token-file FILE]",
            details: """
                Logs in (POST /v1/auth/token) and saves the token and the server in the token file, with
                mode 0600, so later commands need neither the password nor --server. The password is read
                from standard input (or MOM_PASSWORD without --password-stdin). The token file is
                --token-file, else MOM_TOKEN_FILE, else $XDG_CONFIG_HOME/mom/token, else ~/.config/mom/token.
                When the token expires, commands say so; run login again.
                """,
            run: runLogin),
        summary: "log in and save the token for later commands")

    static let logout = ServerCommandGroup.single(
        ServerSubcommand(
            name: "logout", usage: "momctl logout [--token-file FILE]",
            details: "Deletes the saved token file. The token itself stays valid until it expires.",
            run: runLogout),
        summary: "delete the saved token")

    @Sendable static func runLogin(_ invocation: Invocation) async throws {
        try invocation.arguments.none()
        let options = invocation.options
        let environment = invocation.context.environment
        let path = try TokenStore.path(override: options.tokenFile, environment: environment)
        guard let user = options.user ?? environment["MOM_USER"], !user.isEmpty else {
            throw UsageError(message: "login needs --user NAME (or MOM_USER)")
        }
        var loginOptions = options
        loginOptions.user = user
        // An old token file only lends its server; expired or unreadable, it must not stop a new login.
        let previous = (try? TokenStore.load(from: path)) ?? nil
        let plan = try ConnectionPlan.make(
            options: loginOptions, environment: environment, savedLogin: previous, tokenPath: path, nowMilliseconds: 0)
        let session = try Session.open(plan: plan, context: invocation.context)
        let started = WallClock().wallMilliseconds()
        let issued: IssuedToken
        do {
            issued = try await session.client.issueToken()
        } catch MOMClientError.server(401, let code, let message) {
            throw RuntimeFailure(message: "server error 401 \(code): \(message)\nlogin as '\(Dispatcher.printable(user))' was refused: check the user name and password")
        }
        let saved = SavedLogin(
            server: plan.servers.joined(separator: ","), user: user, token: issued.token,
            expiresAtMilliseconds: started + issued.expiresInSeconds * 1000)
        try TokenStore.save(saved, to: path)
        invocation.console.output(
            "logged in as '\(Dispatcher.printable(user))' on \(saved.server); token saved to \(path) "
                + "(expires in \(issued.expiresInSeconds) s)")
    }

    @Sendable static func runLogout(_ invocation: Invocation) async throws {
        try invocation.arguments.none()
        let path = try TokenStore.path(override: invocation.options.tokenFile, environment: invocation.context.environment)
        if try TokenStore.remove(at: path) {
            invocation.console.output("deleted the saved token \(path)")
        } else {
            invocation.console.output("no saved token at \(path)")
        }
    }
}
