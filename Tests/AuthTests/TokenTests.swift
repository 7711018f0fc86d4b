@testable import Auth
import MOMCore
import Testing

/// Wall time of a fresh ManualClock: 1_700_000_000 s.
private let startSeconds: Int64 = 1_700_000_000

private func key(_ text: String = "test-secret-that-is-long-enough-0123456789") -> SigningKey {
    try! SigningKey(secret: text)
}

private func encoded(_ json: String) -> String { Base64URL.encode(Array(json.utf8)) }

private func expectRejected(_ token: String, by verifier: TokenVerifier, with expected: TokenError) {
    #expect(throws: expected) { try verifier.verify(token) }
}

@Suite("JWT HS256 issue and verify")
struct TokenTests {
    let clock = ManualClock()

    var issuer: TokenIssuer { TokenIssuer(key: key(), clock: clock) }
    var verifier: TokenVerifier { TokenVerifier(key: key(), clock: clock, leewaySeconds: 30) }

    /// Signs arbitrary JSON with the test key, to build hostile but correctly signed tokens.
    func signed(header: String = #"{"alg":"HS256","typ":"JWT"}"#, payload: String) -> String {
        TokenIssuer.sign(headerJSON: header, payloadJSON: payload, key: key())
    }

    func payload(
        sub: String = "alice", role: String = "admin", iss: String = "mom",
        iat: Int64 = startSeconds, exp: Int64 = startSeconds + 3600, extra: String = ""
    ) -> String {
        #"{"sub":"\#(sub)","role":"\#(role)","iss":"\#(iss)","iat":\#(iat),"exp":\#(exp)\#(extra)}"#
    }

    @Test("issue then verify returns the same claims")
    func roundTrip() throws {
        let issued = issuer.issue(subject: "alice", role: .producer)
        #expect(issued.expiresInSeconds == 3600)
        let claims = try verifier.verify(issued.token)
        #expect(claims == issued.claims)
        #expect(claims.subject == "alice" && claims.role == .producer && claims.issuer == "mom")
        #expect(claims.issuedAtSeconds == startSeconds && claims.expiresAtSeconds == startSeconds + 3600)
        #expect(try verifier.verify(authorizationHeader: "Bearer " + issued.token) == claims)
    }

    @Test("a token from one node verifies on another with the same secret and issuer")
    func verifiesAcrossNodes() throws {
        let nodeA = TokenIssuer(key: key(), issuer: "cluster-1", clock: clock)
        let nodeB = TokenVerifier(key: key(), issuer: "cluster-1", clock: ManualClock())
        #expect(try nodeB.verify(nodeA.issue(subject: "bob", role: .consumer).token).subject == "bob")
    }

    @Test("a token made by Python's hmac/hashlib/base64 verifies (independent cross-check)")
    func pythonToken() throws {
        // Made at authoring time with Python 3.11's standard library: json.dumps(separators=(',',':'))
        // of {"typ":"JWT","alg":"HS256"} and {"iss":"mom","sub":"alice","role":"producer",
        // "iat":1700000000,"exp":1700003600,"nbf":1700000000}, hmac.new(secret, input, sha256),
        // base64.urlsafe_b64encode(...).rstrip(b'='). Note the different key order from ours.
        let secret = "python-cross-check-secret-0123456789abcdef"
        let token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9."
            + "eyJpc3MiOiJtb20iLCJzdWIiOiJhbGljZSIsInJvbGUiOiJwcm9kdWNlciIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAzNjAwLCJuYmYiOjE3MDAwMDAwMDB9."
            + "n2VscWHMWzjp5tEsSEiw1M7bbeFUWePb3ElnN9N-SkU"
        let claims = try TokenVerifier(key: key(secret), clock: clock).verify(token)
        #expect(claims == TokenClaims(
            subject: "alice", role: .producer, issuer: "mom", issuedAtSeconds: startSeconds,
            expiresAtSeconds: startSeconds + 3600, notBeforeSeconds: startSeconds))
    }

    @Test("our token is byte-identical to Python's for the same claims")
    func matchesPythonBytes() {
        // Python: header b'{"alg":"HS256","typ":"JWT"}', payload
        // b'{"sub":"alice","role":"admin","iss":"mom","iat":1700000000,"exp":1700003600}'.
        let issued = TokenIssuer(key: key("python-cross-check-secret-0123456789abcdef"), clock: clock)
            .issue(subject: "alice", role: .admin)
        #expect(issued.token == "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
            + "eyJzdWIiOiJhbGljZSIsInJvbGUiOiJhZG1pbiIsImlzcyI6Im1vbSIsImlhdCI6MTcwMDAwMDAwMCwiZXhwIjoxNzAwMDAzNjAwfQ."
            + "IYKhHYSldrA2LP2wEXJX4LFftmHLjL5Sg8Y6I5UrdDU")
    }

    @Test("a key shorter than 32 bytes is refused with a message naming MOM_SECRET_KEY")
    func shortKey() {
        #expect(throws: SigningKeyError.tooShort(bytes: 31)) {
            try SigningKey(bytes: [UInt8](repeating: 7, count: 31))
        }
        #expect(SigningKeyError.tooShort(bytes: 5).description.contains("MOM_SECRET_KEY must be at least 32 bytes"))
        #expect(!String(describing: key()).contains("test-secret"))
    }

    @Test("a tampered payload fails the signature check")
    func tamperedPayload() {
        let parts = issuer.issue(subject: "alice", role: .consumer).token.split(separator: ".").map(String.init)
        let forged = encoded(payload(role: "admin"))
        expectRejected([parts[0], forged, parts[2]].joined(separator: "."), by: verifier, with: .invalidSignature)
    }

    @Test("a tampered signature, or another key's, fails")
    func tamperedSignature() {
        let token = issuer.issue(subject: "alice", role: .consumer).token
        let otherKey = TokenIssuer(key: key("another-secret-that-is-long-enough-9876543210"), clock: clock)
        expectRejected(otherKey.issue(subject: "alice", role: .consumer).token, by: verifier, with: .invalidSignature)
        var parts = token.split(separator: ".").map(String.init)
        parts[2] = Base64URL.encode([UInt8](repeating: 0, count: 32))
        expectRejected(parts.joined(separator: "."), by: verifier, with: .invalidSignature)
        expectRejected(parts[0] + "." + parts[1] + ".", by: verifier, with: .invalidSignature)
    }

    @Test("every single-character change anywhere in a token is rejected")
    func everyCharacterMatters() {
        let token = Array(issuer.issue(subject: "alice", role: .consumer).token)
        for index in token.indices {
            var altered = token
            altered[index] = token[index] == "A" ? "B" : "A"
            #expect(throws: TokenError.self, "position \(index)") { try verifier.verify(String(altered)) }
        }
    }

    @Test("alg none with an empty signature is refused before any key is used")
    func algorithmNone() {
        let token = encoded(#"{"alg":"none","typ":"JWT"}"#) + "." + encoded(payload()) + "."
        expectRejected(token, by: verifier, with: .unsupportedAlgorithm("none"))
        let noAlgorithm = encoded(#"{"typ":"JWT"}"#) + "." + encoded(payload()) + "."
        expectRejected(noAlgorithm, by: verifier, with: .unsupportedAlgorithm("(missing)"))
    }

    @Test("HS512 and RS256 headers are refused, even when HMAC-signed with our key")
    func otherAlgorithms() {
        for algorithm in ["HS512", "RS256", "hs256", "ES256"] {
            let token = signed(header: #"{"alg":"\#(algorithm)","typ":"JWT"}"#, payload: payload())
            expectRejected(token, by: verifier, with: .unsupportedAlgorithm(algorithm))
        }
        expectRejected(
            signed(header: #"{"alg":"HS256","typ":"JWT","crit":["exp"]}"#, payload: payload()), by: verifier,
            with: .unsupportedHeader("'crit' extensions are not supported"))
        expectRejected(
            signed(header: #"{"alg":"HS256","typ":"JOSE+JSON"}"#, payload: payload()), by: verifier,
            with: .unsupportedHeader("'typ' must be JWT"))
    }

    @Test("a header that differs from ours but is valid HS256 is accepted")
    func reorderedHeader() throws {
        let token = signed(header: #"{"typ":"JWT","alg":"HS256"}"#, payload: payload())
        #expect(try verifier.verify(token).subject == "alice")
    }

    @Test("expiry honours the leeway: valid 29 s after exp, expired at 30 s")
    func expired() throws {
        let token = issuer.issue(subject: "alice", role: .admin).token
        clock.advance(byMilliseconds: UInt64(3600 + 29) * 1000)
        _ = try verifier.verify(token)
        clock.advance(byMilliseconds: 1000)
        expectRejected(token, by: verifier, with: .expired(expiresAtSeconds: startSeconds + 3600))
        #expect(TokenError.expired(expiresAtSeconds: 1).code == "token_expired")
    }

    @Test("nbf or iat in the future beyond the leeway is refused")
    func notYetValid() throws {
        let later = startSeconds + 31
        expectRejected(
            signed(payload: payload(extra: ",\"nbf\":\(later)")), by: verifier, with: .notYetValid(validFromSeconds: later))
        expectRejected(
            signed(payload: payload(iat: later, exp: later + 3600)), by: verifier,
            with: .notYetValid(validFromSeconds: later))
        // Within the leeway it is accepted: clocks of two nodes may differ a little.
        _ = try verifier.verify(signed(payload: payload(extra: ",\"nbf\":\(startSeconds + 30)")))
    }

    @Test("a wrong issuer is refused")
    func wrongIssuer() {
        expectRejected(signed(payload: payload(iss: "elsewhere")), by: verifier, with: .wrongIssuer("elsewhere"))
        let other = TokenIssuer(key: key(), issuer: "other-cluster", clock: clock).issue(subject: "a", role: .admin)
        expectRejected(other.token, by: verifier, with: .wrongIssuer("other-cluster"))
    }

    @Test("malformed structure: part count, base64, JSON, size")
    func malformed() {
        let good = issuer.issue(subject: "alice", role: .admin).token
        let parts = good.split(separator: ".").map(String.init)
        expectRejected("", by: verifier, with: .wrongPartCount(1))
        expectRejected(parts[0] + "." + parts[1], by: verifier, with: .wrongPartCount(2))
        expectRejected(good + ".x", by: verifier, with: .wrongPartCount(4))
        expectRejected("!!." + parts[1] + "." + parts[2], by: verifier, with: .invalidBase64(.header))
        expectRejected(parts[0] + "." + parts[1] + ".a=b", by: verifier, with: .invalidBase64(.signature))
        expectRejected(
            encoded("not json") + "." + parts[1] + "." + parts[2], by: verifier, with: .invalidJSON(.header))
        expectRejected(encoded("[1,2]") + "." + parts[1] + "." + parts[2], by: verifier, with: .invalidJSON(.header))
        expectRejected(signed(payload: "not json"), by: verifier, with: .invalidJSON(.payload))
        let badPayloadBase64 = TokenIssuer.encodedHeader + ".%%%"
        let tag = HMACSHA256.authenticationCode(key: key().bytes, message: Array(badPayloadBase64.utf8))
        expectRejected(badPayloadBase64 + "." + Base64URL.encode(tag), by: verifier, with: .invalidBase64(.payload))
        let huge = String(repeating: "a", count: TokenVerifier.tokenBytesMaximum + 1)
        expectRejected(huge, by: verifier, with: .tooLarge(bytes: TokenVerifier.tokenBytesMaximum + 1))
    }

    @Test("missing and mistyped claims are refused by name")
    func claims() {
        expectRejected(signed(payload: #"{"role":"admin","iss":"mom","iat":1,"exp":2}"#), by: verifier, with: .missingClaim("sub"))
        expectRejected(signed(payload: #"{"sub":"a","iss":"mom","iat":1,"exp":2}"#), by: verifier, with: .missingClaim("role"))
        expectRejected(signed(payload: #"{"sub":"a","role":"admin","iat":1,"exp":2}"#), by: verifier, with: .missingClaim("iss"))
        expectRejected(signed(payload: #"{"sub":"a","role":"admin","iss":"mom","iat":1}"#), by: verifier, with: .missingClaim("exp"))
        expectRejected(signed(payload: #"{"sub":"a","role":"admin","iss":"mom","exp":2}"#), by: verifier, with: .missingClaim("iat"))
        expectRejected(signed(payload: payload(role: "root")), by: verifier, with: .invalidClaim("role"))
        expectRejected(signed(payload: payload(sub: "")), by: verifier, with: .invalidClaim("sub"))
        let booleanExpiry = #"{"sub":"a","role":"admin","iss":"mom","iat":1700000000,"exp":true}"#
        expectRejected(signed(payload: booleanExpiry), by: verifier, with: .invalidClaim("exp"))
        let stringExpiry = #"{"sub":"a","role":"admin","iss":"mom","iat":1700000000,"exp":"1800000000"}"#
        expectRejected(signed(payload: stringExpiry), by: verifier, with: .invalidClaim("exp"))
        let fractionalExpiry = #"{"sub":"a","role":"admin","iss":"mom","iat":1700000000,"exp":1800000000.5}"#
        expectRejected(signed(payload: fractionalExpiry), by: verifier, with: .invalidClaim("exp"))
        let hugeExpiry = #"{"sub":"a","role":"admin","iss":"mom","iat":1700000000,"exp":1e300}"#
        expectRejected(signed(payload: hugeExpiry), by: verifier, with: .invalidClaim("exp"))
    }

    @Test("Authorization header parsing")
    func authorizationHeader() throws {
        let token = issuer.issue(subject: "alice", role: .admin).token
        #expect(throws: TokenError.missingBearerToken) { try verifier.verify(authorizationHeader: nil) }
        #expect(throws: TokenError.missingBearerToken) { try verifier.verify(authorizationHeader: "Basic abc") }
        #expect(throws: TokenError.missingBearerToken) { try verifier.verify(authorizationHeader: "Bearer ") }
        #expect(try verifier.verify(authorizationHeader: "bearer " + token).subject == "alice")
    }

    @Test("error messages are distinct, and hostile header text is sanitized")
    func messages() {
        let errors: [TokenError] = [
            .missingBearerToken, .tooLarge(bytes: 9000), .wrongPartCount(2), .invalidBase64(.header),
            .invalidJSON(.payload), .unsupportedAlgorithm("none"), .unsupportedHeader("x"), .invalidSignature,
            .missingClaim("exp"), .invalidClaim("exp"), .expired(expiresAtSeconds: 1),
            .notYetValid(validFromSeconds: 1), .wrongIssuer("x"),
        ]
        #expect(Set(errors.map(\.description)).count == errors.count)
        #expect(errors.allSatisfy { $0.httpStatus == 401 })
        let hostile = signed(header: "{\"alg\":\"\\u001b[31mEVIL\(String(repeating: "x", count: 100))\"}", payload: payload())
        #expect {
            try verifier.verify(hostile)
        } throws: { error in
            let text = String(describing: error)
            return !text.contains("\u{1b}") && text.count < 200
        }
    }
}

@Suite("JWT payload edge cases")
struct TokenPayloadEdgeTests {
    @Test("a payload with a duplicated claim is refused as invalid JSON")
    func duplicateClaim() {
        let key = try! SigningKey(secret: "test-secret-that-is-long-enough-0123456789")
        let verifier = TokenVerifier(key: key, clock: ManualClock())
        let payload = #"{"sub":"alice","role":"consumer","role":"admin","iss":"mom","iat":1700000000,"exp":1700003600}"#
        let token = TokenIssuer.sign(headerJSON: TokenIssuer.headerJSON, payloadJSON: payload, key: key)
        #expect(throws: TokenError.invalidJSON(.payload)) { try verifier.verify(token) }
    }
}
