/// Why a token was refused. Every case becomes a 401; each has its own message so a client (and
/// an operator reading logs) can tell a clock problem from a forged token.
///
/// Text taken from an unverified token is shortened and stripped of control characters before it
/// appears in a message, so a hostile header cannot inject into logs or terminals.
public enum TokenError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The three parts of a compact token.
    public enum Part: String, Sendable {
        case header, payload, signature
    }

    /// No `Authorization: Bearer <token>` header.
    case missingBearerToken
    /// The token is longer than `TokenVerifier.tokenBytesMaximum`.
    case tooLarge(bytes: Int)
    /// The token does not have exactly three dot-separated parts.
    case wrongPartCount(Int)
    /// A part is not canonical unpadded base64url.
    case invalidBase64(Part)
    /// The header or payload is not a JSON object.
    case invalidJSON(Part)
    /// `alg` is not HS256: `none`, another HMAC, an asymmetric algorithm, or missing.
    case unsupportedAlgorithm(String)
    /// The header has a `typ` other than JWT, or a `crit` extension MOM does not implement.
    case unsupportedHeader(String)
    /// The signature does not match: the token was altered or signed with another key.
    case invalidSignature
    /// A required claim is absent.
    case missingClaim(String)
    /// A claim has the wrong type or an unusable value.
    case invalidClaim(String)
    /// The token expired at `exp` (seconds since the epoch).
    case expired(expiresAtSeconds: Int64)
    /// The token is not valid before `nbf` (or was issued in the future).
    case notYetValid(validFromSeconds: Int64)
    /// `iss` names another issuer.
    case wrongIssuer(String)

    /// The HTTP status: always 401, the token is the credential.
    public var httpStatus: Int { 401 }

    /// A stable machine-readable code for the JSON error body.
    public var code: String {
        if case .expired = self { return "token_expired" }
        return "unauthorized"
    }

    public var description: String {
        switch self {
        case .missingBearerToken:
            return "missing credentials: send 'Authorization: Bearer <token>'; get a token from POST /v1/auth/token"
        case .tooLarge(let bytes):
            return "token is \(bytes) bytes, more than the \(TokenVerifier.tokenBytesMaximum)-byte limit"
        case .wrongPartCount(let count):
            return "malformed token: expected 3 dot-separated parts (header.payload.signature), got \(count)"
        case .invalidBase64(let part):
            return "malformed token: the \(part.rawValue) is not unpadded base64url"
        case .invalidJSON(let part):
            return "malformed token: the \(part.rawValue) is not a JSON object"
        case .unsupportedAlgorithm(let algorithm):
            return "token algorithm '\(algorithm)' is not accepted; only HS256 is"
        case .unsupportedHeader(let reason):
            return "token header not accepted: \(reason)"
        case .invalidSignature:
            return "token signature is invalid"
        case .missingClaim(let name):
            return "token lacks the required '\(name)' claim"
        case .invalidClaim(let name):
            return "token claim '\(name)' has an invalid value"
        case .expired(let expiresAtSeconds):
            return "token expired at \(expiresAtSeconds) (seconds since the epoch); get a new one from POST /v1/auth/token"
        case .notYetValid(let validFromSeconds):
            return "token is not valid before \(validFromSeconds) (seconds since the epoch); check the clocks"
        case .wrongIssuer(let issuer):
            return "token issuer '\(issuer)' is not this cluster's"
        }
    }

    /// Shortens untrusted text and keeps printable ASCII only, for use inside a message.
    static func sanitized(_ text: String, bytesMaximum: Int = 32) -> String {
        var result = ""
        for scalar in text.unicodeScalars.prefix(bytesMaximum) {
            result.unicodeScalars.append(scalar.value >= 0x20 && scalar.value < 0x7F ? scalar : "?")
        }
        if text.unicodeScalars.count > bytesMaximum { result += "..." }
        return result
    }
}
