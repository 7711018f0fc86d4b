import MOMCore

/// Issues HS256 JSON Web Tokens (RFC 7519, compact JWS per RFC 7515) for authenticated users.
///
/// Every node is configured with the same key and issuer, so a token from any node is accepted by
/// every node, and no session state is shared between them.
public struct TokenIssuer: Sendable {
    /// The `iss` value used when none is configured.
    public static let defaultIssuer = "mom"
    /// How long a token lasts when no lifetime is configured: one hour.
    public static let defaultLifetimeSeconds: Int64 = 3_600

    /// The fixed header: `{"alg":"HS256","typ":"JWT"}`.
    static let headerJSON = #"{"alg":"HS256","typ":"JWT"}"#
    /// The header as it appears in every token this issuer writes; the verifier's fast path.
    static let encodedHeader = Base64URL.encode(Array(headerJSON.utf8))

    private let key: SigningKey
    /// The `iss` claim written into every token.
    public let issuer: String
    /// Seconds from `iat` to `exp`.
    public let lifetimeSeconds: Int64
    private let clock: any Clock

    /// Creates an issuer. `lifetimeSeconds` must be positive.
    public init(
        key: SigningKey, issuer: String = defaultIssuer, lifetimeSeconds: Int64 = defaultLifetimeSeconds,
        clock: any Clock
    ) {
        precondition(lifetimeSeconds > 0, "token lifetime must be positive (got \(lifetimeSeconds))")
        self.key = key
        self.issuer = issuer
        self.lifetimeSeconds = lifetimeSeconds
        self.clock = clock
    }

    /// Issues a token for `subject` (a user name) with `role`, valid from now for the lifetime.
    /// The verifier accepts only subjects that are valid `UserName`s, so pass a verified user's name.
    public func issue(subject: String, role: Role) -> IssuedToken {
        let now = WallTime.seconds(clock)
        let claims = TokenClaims(
            subject: subject, role: role, issuer: issuer, issuedAtSeconds: now,
            expiresAtSeconds: now + lifetimeSeconds)
        let token = Self.sign(headerJSON: Self.headerJSON, payloadJSON: Self.payloadJSON(claims), key: key)
        return IssuedToken(token: token, expiresInSeconds: lifetimeSeconds, claims: claims)
    }

    /// The claims as a JSON object, keys in a fixed order.
    static func payloadJSON(_ claims: TokenClaims) -> String {
        var json = "{\"sub\":\(JSONText.quoted(claims.subject))"
        json += ",\"role\":\(JSONText.quoted(claims.role.rawValue))"
        json += ",\"iss\":\(JSONText.quoted(claims.issuer))"
        json += ",\"iat\":\(claims.issuedAtSeconds),\"exp\":\(claims.expiresAtSeconds)"
        if let notBefore = claims.notBeforeSeconds { json += ",\"nbf\":\(notBefore)" }
        return json + "}"
    }

    /// Signs arbitrary header and payload JSON. Internal so tests can build hostile tokens with
    /// the real signing code.
    static func sign(headerJSON: String, payloadJSON: String, key: SigningKey) -> String {
        let signingInput = Base64URL.encode(Array(headerJSON.utf8)) + "." + Base64URL.encode(Array(payloadJSON.utf8))
        let tag = HMACSHA256.authenticationCode(key: key.bytes, message: Array(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(tag)
    }
}

/// Whole seconds since the Unix epoch from an injected clock (JWT NumericDate).
enum WallTime {
    static func seconds(_ clock: any Clock) -> Int64 {
        let milliseconds = clock.wallMilliseconds()
        // Floor, not truncate, so a (test) clock before 1970 still rounds the same way.
        return milliseconds >= 0 ? milliseconds / 1000 : (milliseconds - 999) / 1000
    }
}

/// Minimal JSON string quoting for the few strings a token carries (RFC 8259 §7).
enum JSONText {
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
