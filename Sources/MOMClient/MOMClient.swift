import Foundation
import MOMCore

/// The Swift client for MOM's REST API (docs/openapi.yaml, docs/api.md).
///
/// Why this shape: any broker node accepts any call, so the client only needs a list of nodes to
/// try in turn; it keeps keep-alive sockets per node, logs in on demand, refreshes the token
/// before it expires (and once on a 401), and retries 503s and lost connections with bounded,
/// jittered backoff. Every method throws `MOMClientError` (or `CancellationError`).
public final class MOMClient: Sendable {
    let servers: [ServerAddress]
    let credentials: Credentials?
    let configuration: MOMClientConfiguration
    let clock: any Clock
    let pool: ConnectionPool
    let state: ClientState

    /// - Parameters:
    ///   - servers: broker nodes as `"host:port"` or `"http://host:port"`; tried in order on failure.
    ///   - credentials: nil for a broker started without auth.
    public convenience init(
        servers: [String], credentials: Credentials?,
        configuration: MOMClientConfiguration = MOMClientConfiguration()
    ) throws {
        try self.init(addresses: servers.map { text throws(MOMClientError) in try ServerAddress(parsing: text) },
                      credentials: credentials, configuration: configuration, clock: MonotonicClock())
    }

    /// The same with `URL`s such as `http://127.0.0.1:8080`.
    public convenience init(
        servers: [URL], credentials: Credentials?,
        configuration: MOMClientConfiguration = MOMClientConfiguration()
    ) throws {
        try self.init(addresses: servers.map { url throws(MOMClientError) in try ServerAddress(url: url) },
                      credentials: credentials, configuration: configuration, clock: MonotonicClock())
    }

    /// The designated initialiser; `clock` drives token expiry, deadlines and the retry budget.
    public init(
        addresses: [ServerAddress], credentials: Credentials?,
        configuration: MOMClientConfiguration, clock: any Clock
    ) throws {
        guard !addresses.isEmpty else {
            throw MOMClientError.invalidArgument("no servers given; pass at least one host:port")
        }
        self.servers = addresses
        self.credentials = credentials
        self.configuration = configuration
        self.clock = clock
        self.pool = ConnectionPool(
            connectionsPerServerMax: max(1, configuration.connectionsPerServerMax),
            idleConnectionsPerServerMax: max(0, configuration.idleConnectionsPerServerMax))
        var seed = configuration.jitterSeed ?? { var system = SystemRandom(); return system.next() }()
        if seed == 0 { seed = 1 }
        self.state = ClientState(seed: seed)
    }

    deinit { pool.closeIdle() }

    /// Closes idle keep-alive connections. The client stays usable; new calls reconnect.
    public func closeIdleConnections() { pool.closeIdle() }

    /// Sockets opened so far. Why public: operators and tests can see that keep-alive works.
    public var connectionsOpened: Int { pool.connectionsOpened }

    /// Logs in with the credentials (POST /v1/auth/token) and returns the token. Calls log in
    /// on their own when needed; call this to fail fast on bad credentials.
    @discardableResult
    public func login() async throws -> String {
        guard let credentials else {
            throw MOMClientError.invalidArgument("login() needs credentials; pass them to MOMClient(servers:credentials:)")
        }
        let body = try JSONWire.encode(TokenRequest(username: credentials.username, password: credentials.password))
        let started = clock.monotonicNanoseconds()
        let response = try await send(method: "POST", target: "/v1/auth/token", body: body, authenticated: false)
        let token: TokenResponse = try JSONWire.decode(response.body)
        let lifetimeNanoseconds = UInt64(max(0, token.expiresIn)).multipliedReportingOverflow(by: 1_000_000_000).partialValue
        state.store(token: token.token, expiresAtNanoseconds: started &+ lifetimeNanoseconds)
        return token.token
    }

    /// A token valid for at least the refresh margin, logging in when needed; nil without credentials.
    func validToken() async throws -> String? {
        guard credentials != nil else { return configuration.bearerToken }
        let marginNanoseconds = configuration.tokenRefreshMarginMilliseconds.multipliedReportingOverflow(by: 1_000_000).partialValue
        if let token = state.token(validAt: clock.monotonicNanoseconds() &+ marginNanoseconds) { return token }
        return try await login()
    }
}

/// The client's mutable state behind one lock: the token, the preferred server, the jitter source.
final class ClientState: @unchecked Sendable {
    private let lock = NSLock()
    private var token: String?
    private var tokenExpiresAtNanoseconds: UInt64 = 0
    private var preferredServerIndex = 0
    private var random: SeededRandom

    init(seed: UInt64) { random = SeededRandom(seed: seed) }

    func store(token: String, expiresAtNanoseconds: UInt64) {
        lock.withLock {
            self.token = token
            tokenExpiresAtNanoseconds = expiresAtNanoseconds
        }
    }

    func forgetToken() { lock.withLock { token = nil } }

    func token(validAt nanoseconds: UInt64) -> String? {
        lock.withLock { nanoseconds < tokenExpiresAtNanoseconds ? token : nil }
    }

    var preferredServer: Int { lock.withLock { preferredServerIndex } }

    /// Moves to the server after `failed` (if no other call already moved on).
    func failOver(from failed: Int, serverCount: Int) {
        lock.withLock {
            if preferredServerIndex == failed { preferredServerIndex = (failed + 1) % serverCount }
        }
    }

    func unitRandom() -> Double { lock.withLock { random.unitDouble() } }
}
