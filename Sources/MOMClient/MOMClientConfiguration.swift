/// Who the client logs in as. Why a type: keeps the password out of argument lists and logs.
public struct Credentials: Sendable {
    public var username: String
    public var password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }
}

/// Every knob of the client, each with a bound (STYLE.md habit 5).
public struct MOMClientConfiguration: Sendable {
    /// Retry count, time budget and backoff for 503s and lost connections.
    public var retry = RetryPolicy()
    /// Connect plus send plus receive of one attempt; long polls add their `wait` on top.
    public var requestTimeoutMilliseconds: UInt64 = 30_000
    /// Sockets in use at once per server; more concurrent calls wait their turn.
    public var connectionsPerServerMax = 16
    /// Keep-alive sockets kept open per server between calls.
    public var idleConnectionsPerServerMax = 4
    /// Larger responses are refused with `.decoding`, protecting the client's memory.
    public var responseBytesMax = 64 << 20
    /// Log in again this long before the token's expiry, so no call races the expiry.
    public var tokenRefreshMarginMilliseconds: UInt64 = 30_000
    /// Seeds the backoff jitter; nil draws a seed from the system generator.
    public var jitterSeed: UInt64?
    /// A token obtained earlier (momctl caches one after `momctl login`), sent as the bearer
    /// when the client has no credentials. The client cannot refresh it: once it expires, calls
    /// fail with `.server(status: 401, …)` and the caller must log in again.
    public var bearerToken: String?

    public init() {}
}
