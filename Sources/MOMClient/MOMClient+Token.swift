import Foundation
import MOMCore

/// A token as the broker issued it, with its lifetime: what a caller needs to cache it.
public struct IssuedToken: Sendable, Equatable {
    /// The HS256 JWT to send as `Authorization: Bearer …`.
    public var token: String
    /// Seconds the token stays valid from when it was issued.
    public var expiresInSeconds: Int64

    public init(token: String, expiresInSeconds: Int64) {
        self.token = token
        self.expiresInSeconds = expiresInSeconds
    }
}

extension MOMClient {
    /// Logs in (POST /v1/auth/token) like `login()`, and also returns the token's lifetime.
    /// Why: a command-line tool caches the token in a file between runs and must know when the
    /// cached copy expires, to say "log in again" instead of sending a dead token.
    public func issueToken() async throws -> IssuedToken {
        guard let credentials else {
            throw MOMClientError.invalidArgument("issueToken() needs credentials; pass them to MOMClient(servers:credentials:)")
        }
        let body = try JSONWire.encode(TokenRequest(username: credentials.username, password: credentials.password))
        let started = clock.monotonicNanoseconds()
        let response = try await send(method: "POST", target: "/v1/auth/token", body: body, authenticated: false)
        let issued: TokenResponse = try JSONWire.decode(response.body)
        let lifetimeNanoseconds = UInt64(max(0, issued.expiresIn)).multipliedReportingOverflow(by: 1_000_000_000).partialValue
        state.store(token: issued.token, expiresAtNanoseconds: started &+ lifetimeNanoseconds)
        return IssuedToken(token: issued.token, expiresInSeconds: issued.expiresIn)
    }
}
