import MOMCore

/// Verifies HS256 tokens on every request: cheap checks first, the signature before the payload
/// is parsed, and the claims last.
///
/// What it refuses, each with its own `TokenError`: oversize input, a wrong number of parts, bad
/// base64url, a header that is not JSON, any `alg` but HS256 (so `none` and algorithm-confusion
/// tricks fail before any key is used), a bad signature (compared in constant time), missing or
/// mistyped claims, a wrong issuer, and a token outside its validity window (with `leewaySeconds`
/// of tolerance for clock skew between nodes).
public struct TokenVerifier: Sendable {
    /// The longest token accepted, in bytes. Ours are about 250; the limit bounds the work an
    /// unauthenticated request can cause.
    public static let tokenBytesMaximum = 8 << 10
    /// The longest header, in bytes. It is parsed before the signature is checked, so it is kept tiny.
    public static let headerBytesMaximum = 1 << 10
    /// The largest clock-skew tolerance allowed.
    public static let leewaySecondsMaximum: Int64 = 300

    private let key: SigningKey
    /// The only `iss` accepted.
    public let issuer: String
    /// Tolerance for clock skew when checking `exp`, `nbf` and `iat`.
    public let leewaySeconds: Int64
    private let clock: any Clock

    /// Creates a verifier. `leewaySeconds` must be within 0...300.
    public init(
        key: SigningKey, issuer: String = TokenIssuer.defaultIssuer, clock: any Clock, leewaySeconds: Int64 = 30
    ) {
        precondition((0...Self.leewaySecondsMaximum).contains(leewaySeconds), "leeway \(leewaySeconds) s")
        self.key = key
        self.issuer = issuer
        self.leewaySeconds = leewaySeconds
        self.clock = clock
    }

    /// Verifies the token in an `Authorization` header value (`Bearer <token>`).
    public func verify(authorizationHeader: String?) throws(TokenError) -> TokenClaims {
        guard let header = authorizationHeader else { throw .missingBearerToken }
        let scheme = "bearer "
        guard header.utf8.count > scheme.utf8.count,
            header.prefix(scheme.count).lowercased() == scheme
        else {
            throw .missingBearerToken
        }
        return try verify(String(header.dropFirst(scheme.count).drop(while: { $0 == " " })))
    }

    /// Verifies a compact token and returns its claims.
    public func verify(_ token: String) throws(TokenError) -> TokenClaims {
        let bytes = Array(token.utf8)
        if bytes.count > Self.tokenBytesMaximum { throw .tooLarge(bytes: bytes.count) }
        let dots = bytes.indices.filter { bytes[$0] == UInt8(ascii: ".") }
        if dots.count != 2 { throw .wrongPartCount(dots.count + 1) }
        let header = bytes[..<dots[0]]
        let payload = bytes[(dots[0] + 1)..<dots[1]]
        let signature = bytes[(dots[1] + 1)...]

        try checkHeader(header)
        guard let signatureBytes = Base64URL.decode(utf8: signature) else { throw .invalidBase64(.signature) }
        let expected = HMACSHA256.authenticationCode(key: key.bytes, message: Array(bytes[..<dots[1]]))
        guard ConstantTime.equals(signatureBytes, expected) else { throw .invalidSignature }

        let claims = try Self.claims(from: try Self.jsonObject(payload, part: .payload))
        try checkValidity(claims)
        return claims
    }

    private func checkHeader(_ encoded: ArraySlice<UInt8>) throws(TokenError) {
        // Fast path: our own header, byte for byte, needs no parsing.
        if encoded.elementsEqual(TokenIssuer.encodedHeader.utf8) { return }
        if encoded.count > Self.headerBytesMaximum {
            throw .unsupportedHeader("the header is longer than \(Self.headerBytesMaximum) bytes")
        }
        let header = try Self.jsonObject(encoded, part: .header)
        guard let algorithm = header["alg"] else { throw .unsupportedAlgorithm("(missing)") }
        guard let name = algorithm.stringValue else { throw .unsupportedAlgorithm("(not a string)") }
        if name != "HS256" { throw .unsupportedAlgorithm(TokenError.sanitized(name)) }
        if let type = header["typ"] {
            guard let typeName = type.stringValue, typeName.uppercased() == "JWT" else {
                throw .unsupportedHeader("'typ' must be JWT")
            }
        }
        // RFC 7515 §4.1.11: a recipient must reject critical extensions it does not understand.
        if header["crit"] != nil { throw .unsupportedHeader("'crit' extensions are not supported") }
    }

    private func checkValidity(_ claims: TokenClaims) throws(TokenError) {
        if claims.issuer != issuer { throw .wrongIssuer(TokenError.sanitized(claims.issuer)) }
        let now = WallTime.seconds(clock)
        // Written as comparisons against `now ± leeway` so a huge claim cannot overflow.
        if claims.expiresAtSeconds <= now - leewaySeconds {
            throw .expired(expiresAtSeconds: claims.expiresAtSeconds)
        }
        if let notBefore = claims.notBeforeSeconds, notBefore > now + leewaySeconds {
            throw .notYetValid(validFromSeconds: notBefore)
        }
        if claims.issuedAtSeconds > now + leewaySeconds {
            throw .notYetValid(validFromSeconds: claims.issuedAtSeconds)
        }
    }

    private static func jsonObject(
        _ encoded: ArraySlice<UInt8>, part: TokenError.Part
    ) throws(TokenError) -> [String: JSONValue] {
        guard let decoded = Base64URL.decode(utf8: encoded) else { throw .invalidBase64(part) }
        guard let object = JSONParser.parseObject(decoded) else { throw .invalidJSON(part) }
        return object
    }

    private static func claims(from payload: [String: JSONValue]) throws(TokenError) -> TokenClaims {
        let subject = try string(payload, "sub")
        guard (try? UserName(subject)) != nil else { throw .invalidClaim("sub") }
        guard let role = Role(rawValue: try string(payload, "role")) else { throw .invalidClaim("role") }
        let issuer = try string(payload, "iss")
        guard let issuedAt = try integer(payload, "iat") else { throw .missingClaim("iat") }
        guard let expiresAt = try integer(payload, "exp") else { throw .missingClaim("exp") }
        return TokenClaims(
            subject: subject, role: role, issuer: issuer, issuedAtSeconds: issuedAt,
            expiresAtSeconds: expiresAt, notBeforeSeconds: try integer(payload, "nbf"))
    }

    private static func string(_ payload: [String: JSONValue], _ name: String) throws(TokenError) -> String {
        guard let value = payload[name] else { throw .missingClaim(name) }
        guard let text = value.stringValue else { throw .invalidClaim(name) }
        return text
    }

    /// A NumericDate claim as whole seconds, nil when absent. Only an integer literal is accepted:
    /// MOM and common libraries write whole seconds, and refusing fractions and exponents keeps
    /// one spelling per instant.
    private static func integer(_ payload: [String: JSONValue], _ name: String) throws(TokenError) -> Int64? {
        guard let value = payload[name] else { return nil }
        guard let integer = value.integerValue else { throw .invalidClaim(name) }
        return integer
    }
}
