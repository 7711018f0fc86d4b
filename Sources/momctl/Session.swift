import Foundation
import MOMClient

/// A broker command's connection: the client and how it authenticates.
struct Session: Sendable {
    let client: MOMClient
    let plan: ConnectionPlan
    let credentials: Credentials?

    /// The client settings momctl uses: the library's retries (503s, lost connections) within
    /// 15 s, and a 30 s bound on each request plus its long-poll wait.
    static func configuration(bearerToken: String?) -> MOMClientConfiguration {
        var configuration = MOMClientConfiguration()
        configuration.bearerToken = bearerToken
        configuration.connectionsPerServerMax = 4
        configuration.idleConnectionsPerServerMax = 2
        return configuration
    }

    /// Reads the saved login (when needed), decides the plan, reads a password if one is
    /// expected on standard input, and builds the client.
    static func open(options: GlobalOptions, context: CommandContext) throws -> Session {
        let path = try TokenStore.path(override: options.tokenFile, environment: context.environment)
        let saved = try TokenStore.load(from: path)
        let plan = try ConnectionPlan.make(
            options: options, environment: context.environment, savedLogin: saved, tokenPath: path,
            nowMilliseconds: WallClock().wallMilliseconds())
        return try open(plan: plan, context: context)
    }

    static func open(plan: ConnectionPlan, context: CommandContext) throws -> Session {
        var credentials: Credentials?
        var token: String?
        switch plan.authentication {
        case .none:
            break
        case .savedToken(let saved, _):
            token = saved
        case .credentials(let user, let fromStandardInput):
            let password = fromStandardInput
                ? try PasswordInput.read(descriptor: context.console.inputDescriptor, console: context.console)
                : context.environment["MOM_PASSWORD"] ?? ""
            credentials = Credentials(username: user, password: password)
        }
        let client = try MOMClient(servers: plan.servers, credentials: credentials, configuration: configuration(bearerToken: token))
        return Session(client: client, plan: plan, credentials: credentials)
    }

    /// A client for one other node (`cluster status` asks each), authenticated the same way,
    /// trying briefly: a slow node must not hold up the whole status.
    func client(forServer address: String) throws -> MOMClient {
        var token: String?
        if case .savedToken(let saved, _) = plan.authentication { token = saved }
        var configuration = Self.configuration(bearerToken: token)
        configuration.retry = RetryPolicy(attemptsMax: 2, totalMilliseconds: 5_000)
        configuration.requestTimeoutMilliseconds = 5_000
        return try MOMClient(servers: [address], credentials: credentials, configuration: configuration)
    }
}
