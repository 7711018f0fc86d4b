/// The claims MOM puts in, and requires from, a token (RFC 7519 §4.1 names).
public struct TokenClaims: Sendable, Equatable {
    /// `sub`: the user name.
    public var subject: String
    /// `role`: the user's role when the token was issued.
    public var role: Role
    /// `iss`: who issued the token; every node of one cluster uses the same value.
    public var issuer: String
    /// `iat`: when it was issued, in seconds since the Unix epoch.
    public var issuedAtSeconds: Int64
    /// `exp`: when it stops being valid, in seconds since the Unix epoch.
    public var expiresAtSeconds: Int64
    /// `nbf`: when it starts being valid, in seconds since the Unix epoch, if set.
    public var notBeforeSeconds: Int64?

    /// Creates a set of claims.
    public init(
        subject: String, role: Role, issuer: String, issuedAtSeconds: Int64, expiresAtSeconds: Int64,
        notBeforeSeconds: Int64? = nil
    ) {
        self.subject = subject
        self.role = role
        self.issuer = issuer
        self.issuedAtSeconds = issuedAtSeconds
        self.expiresAtSeconds = expiresAtSeconds
        self.notBeforeSeconds = notBeforeSeconds
    }
}

/// A freshly issued token, in the shape `POST /v1/auth/token` returns.
public struct IssuedToken: Sendable, Equatable {
    /// The compact JWS: `header.payload.signature`.
    public var token: String
    /// Seconds until it expires (`expires_in`).
    public var expiresInSeconds: Int64
    /// The claims it carries.
    public var claims: TokenClaims
}
