import Auth
import Glibc
import HTTPServer
import MOMCore
import SystemIO
import Testing
@testable import Broker

/// Tokens and roles at the REST front, in process.
@Suite struct AuthRouteTests {
    static let secret = "test-secret-test-secret-test-secret-0123"

    static func usersDatabase() throws -> String {
        let directory = try FileSystemCalls.makeTemporaryDirectory(prefix: "mom-auth-test-")
        let path = "\(directory)/users.db"
        let store = try UserStore(path: path, createIfMissing: true, policy: PasswordPolicy.insecureForTestsOnly(iterations: 1_000), clock: SystemClock())
        try store.add(name: "alice", password: "alice-password", role: .admin)
        try store.add(name: "pete", password: "pete-password", role: .producer)
        return path
    }

    static func login(_ router: Router, _ name: String, _ password: String) async -> String? {
        await SingleNodeTests.call(router, .post, "/v1/auth/token", #"{"username":"\#(name)","password":"\#(password)"}"#).1?["token"]?.stringValue
    }

    @Test func tokensAndRolesGuardEveryRoute() async throws {
        let key = try SigningKey(secret: Self.secret)
        let clock = SystemClock()
        let store = try UserStore(path: try Self.usersDatabase(), createIfMissing: false,
                                  policy: PasswordPolicy.insecureForTestsOnly(iterations: 1_000), clock: clock)
        let worker = LoginWorker(authenticator: Authenticator(store: store, issuer: TokenIssuer(key: key, clock: clock)))
        let (node, router) = try await SingleNodeTests.startNode(gate: AuthGate(verifier: TokenVerifier(key: key, clock: clock)), loginWorker: worker)
        #expect(await SingleNodeTests.waitForMeta(node))

        #expect(await SingleNodeTests.call(router, .get, "/healthz").0 == 200, "healthz needs no token")
        #expect(await SingleNodeTests.call(router, .post, "/v1/auth/token", #"{"username":"alice","password":"wrong"}"#).0 == 401)
        let admin = try #require(await Self.login(router, "alice", "alice-password"))
        let producer = try #require(await Self.login(router, "pete", "pete-password"))

        // Without a token, or with a forged one: 401 on every guarded route.
        for (method, target) in [(HTTPMethod.get, "/v1/topics"), (.post, "/v1/topics"), (.get, "/v1/topics/x"), (.delete, "/v1/topics/x"),
                                 (.post, "/v1/topics/x/records"), (.get, "/v1/topics/x/partitions/0/records?offset=0"), (.get, "/v1/cluster")] {
            #expect(await SingleNodeTests.call(router, method, target, "{}").0 == 401, "\(method) \(target) without a token")
            #expect(await SingleNodeTests.call(router, method, target, "{}", token: admin + "x").0 == 401, "\(method) \(target) with a bad signature")
        }
        #expect(await SingleNodeTests.call(router, .post, "/v1/topics", #"{"name":"t"}"#, token: producer).0 == 403, "a producer may not create topics")
        #expect(await SingleNodeTests.call(router, .post, "/v1/topics", #"{"name":"t"}"#, token: admin).0 == 201)
        #expect(await SingleNodeTests.waitForLeaders(node, count: 2))
        #expect(await SingleNodeTests.call(router, .post, "/v1/topics/t/records", #"{"records":[{"value":"v"}]}"#, token: producer).0 == 200)
        #expect(await SingleNodeTests.call(router, .get, "/v1/topics/t/partitions/0/records?offset=0", token: producer).0 == 403, "a producer may not read")
        worker.stop()
        await node.stop()
    }
}
