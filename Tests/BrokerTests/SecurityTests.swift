import Auth
import HTTPServer
import MOMCore
import SystemIO
import Testing
@testable import Broker

/// Issue #9's security checks at the REST front, in process: every guarded route refuses every
/// kind of bad token, and hostile names never reach the disk.
///
/// The route list comes from the router itself, so a route added later is covered without
/// editing this file; only the public routes are named here.
@Suite struct SecurityTests {
    /// Routes that need no token, by design (docs/openapi.yaml marks them `security: []`).
    static func isPublic(_ method: HTTPMethod, _ pattern: String) -> Bool {
        if pattern == "/healthz" || pattern == "/metrics" { return true }
        if method == .post && pattern == "/v1/auth/token" { return true }
        return pattern == "/ui" || pattern.hasPrefix("/ui/")
    }

    /// A concrete target for a route pattern: every `{parameter}` becomes a plausible value.
    static func target(for pattern: String) -> String {
        let segments = pattern.split(separator: "/", omittingEmptySubsequences: false).map { segment -> String in
            guard segment.hasPrefix("{") else { return String(segment) }
            return segment == "{p}" ? "0" : "x"
        }
        return segments.joined(separator: "/") + (pattern.hasSuffix("/records") ? "?offset=0" : "")
    }

    /// Hand-built JWTs: right shape, wrong in exactly one way each.
    static func hostileTokens(secret: String, valid: String) -> [(String, String)] {
        let now = Int64(SystemClock().wallMilliseconds() / 1000)
        func part(_ json: String) -> String { Base64URL.encode(Array(json.utf8)) }
        func signed(header: String, payload: String, key: String) -> String {
            let input = part(header) + "." + part(payload)
            return input + "." + Base64URL.encode(HMACSHA256.authenticationCode(key: Array(key.utf8), message: Array(input.utf8)))
        }
        let hs256 = #"{"alg":"HS256","typ":"JWT"}"#
        func claims(iat: Int64, exp: Int64, nbf: Int64? = nil) -> String {
            #"{"sub":"alice","role":"admin","iss":"mom","iat":\#(iat),"exp":\#(exp)"# + (nbf.map { #","nbf":\#($0)"# } ?? "") + "}"
        }
        let fresh = claims(iat: now, exp: now + 600)
        let validParts = valid.split(separator: ".").map(String.init)
        return [
            ("empty bearer", ""),
            ("garbage", "not-a-token"),
            ("two parts", validParts[0] + "." + validParts[1]),
            ("bad base64", validParts[0] + ".!!!." + validParts[2]),
            ("forged: other key", signed(header: hs256, payload: fresh, key: String(repeating: "k", count: 40))),
            ("tampered payload", part(hs256) + "." + part(#"{"sub":"alice","role":"admin","iss":"mom","iat":1,"exp":99999999999}"#) + "." + validParts[2]),
            ("expired", signed(header: hs256, payload: claims(iat: now - 7_200, exp: now - 3_600), key: secret)),
            ("not yet valid", signed(header: hs256, payload: claims(iat: now, exp: now + 7_200, nbf: now + 3_600), key: secret)),
            ("alg none", part(#"{"alg":"none","typ":"JWT"}"#) + "." + part(fresh) + "."),
            ("alg HS384, signed with the right key", signed(header: #"{"alg":"HS384","typ":"JWT"}"#, payload: fresh, key: secret)),
            ("alg RS256, signed with the right key", signed(header: #"{"alg":"RS256","typ":"JWT"}"#, payload: fresh, key: secret)),
            ("unknown role", signed(header: hs256, payload: #"{"sub":"alice","role":"root","iss":"mom","iat":\#(now),"exp":\#(now + 600)}"#, key: secret)),
        ]
    }

    @Test func everyGuardedRouteRefusesEveryBadToken() async throws {
        let secret = AuthRouteTests.secret
        let key = try SigningKey(secret: secret)
        let clock = SystemClock()
        let valid = TokenIssuer(key: key, clock: clock).issue(subject: "alice", role: .admin).token
        let (node, router) = try await SingleNodeTests.startNode(gate: AuthGate(verifier: TokenVerifier(key: key, clock: clock)))
        let guarded = router.routes.filter { !Self.isPublic($0.method, $0.pattern) }
        #expect(guarded.count >= 8, "the router lists its routes: \(router.routes)")
        let hostile = Self.hostileTokens(secret: secret, valid: valid)
        for route in guarded {
            let target = Self.target(for: route.pattern)
            let (status, body) = await SingleNodeTests.call(router, route.method, target, "{}")
            #expect(status == 401, "\(route.method) \(target) without a token answered \(status)")
            #expect(body?["error"]?["code"]?.stringValue != nil, "\(route.method) \(target): the 401 carries a JSON error")
            for (what, token) in hostile {
                let (status, _) = await SingleNodeTests.call(router, route.method, target, "{}", token: token)
                #expect(status == 401, "\(route.method) \(target) with \(what) answered \(status)")
            }
        }
        // The control: the same valid token is accepted (not 401) on a guarded route.
        #expect(await SingleNodeTests.call(router, .get, "/v1/topics", token: valid).0 == 200)
        await node.stop()
    }

    @Test func aProducerTokenOnEveryAdminRouteIs403() async throws {
        let key = try SigningKey(secret: AuthRouteTests.secret)
        let clock = SystemClock()
        let producer = TokenIssuer(key: key, clock: clock).issue(subject: "pete", role: .producer).token
        let (node, router) = try await SingleNodeTests.startNode(gate: AuthGate(verifier: TokenVerifier(key: key, clock: clock)))
        // Creating and deleting resources is the admin's alone.
        let adminOnly = router.routes.filter { route in
            (route.method == .delete) || (route.method == .post && ["/v1/topics", "/v1/queues", "/v1/exchanges"].contains(route.pattern))
                || (route.method == .post && route.pattern.hasSuffix("/bindings"))
        }
        #expect(!adminOnly.isEmpty)
        for route in adminOnly {
            let target = Self.target(for: route.pattern)
            let status = await SingleNodeTests.call(router, route.method, target, #"{"name":"t"}"#, token: producer).0
            #expect(status == 403, "\(route.method) \(target) with a producer token answered \(status)")
        }
        await node.stop()
    }

    /// Names that could escape the data directory are refused with 400 before anything is
    /// proposed, on the create routes and in path parameters alike. (The catalog validates again
    /// at apply time, and `SegmentGroupLogFactory` asserts it, so a name reaches the disk only
    /// through all three.)
    @Test func hostileNamesAreRefusedBeforeAnythingIsCreated() async throws {
        let key = try SigningKey(secret: AuthRouteTests.secret)
        let clock = SystemClock()
        let admin = TokenIssuer(key: key, clock: clock).issue(subject: "alice", role: .admin).token
        let (node, router) = try await SingleNodeTests.startNode(gate: AuthGate(verifier: TokenVerifier(key: key, clock: clock)))
        #expect(await SingleNodeTests.waitForMeta(node))
        let hostile = ["../x", "../../etc", "a/b", "/abs", "a\\u0000b", String(repeating: "n", count: 250), "..", ".", "__meta"]
        for name in hostile {
            for path in ["/v1/topics", "/v1/queues", "/v1/exchanges"] where router.routes.contains(where: { $0.method == .post && $0.pattern == path }) {
                let body = #"{"name":"\#(name)","partitions":1,"replication_factor":1,"type":"direct"}"#
                let (status, reply) = await SingleNodeTests.call(router, .post, path, body, token: admin)
                #expect(status == 400, "POST \(path) name \(name.prefix(20)) answered \(status)")
                #expect(reply?["error"]?["code"]?.stringValue == "bad_request")
            }
        }
        // Percent-encoded traversal in a path parameter: refused or unknown, never a server error.
        for target in ["/v1/topics/..%2F..%2Fetc", "/v1/topics/%2E%2E", "/v1/topics/a%00b", "/v1/topics/..%2Fx/partitions/0/records?offset=0"] {
            let status = await SingleNodeTests.call(router, .get, target, token: admin).0
            #expect([400, 404].contains(status), "GET \(target) answered \(status)")
        }
        #expect(await SingleNodeTests.call(router, .get, "/v1/topics", token: admin).1?["topics"]?.arrayValue?.isEmpty == true,
                "no hostile name was created")
        await node.stop()
    }
}
