import Auth
import HTTPServer
import MOMCore
import SystemIO
import Testing
@testable import Broker

/// Tokens and roles on the exchange and subscription routes: 401 without or with a bad token,
/// 403 for a role without the permission, and the allowed roles get through.
@Suite struct MessagingAuthTests {
    @Test func exchangeAndSubscriptionRoutesCheckTokensAndRoles() async throws {
        let directory = try FileSystemCalls.makeTemporaryDirectory(prefix: "mom-msg-auth-")
        let clock = SystemClock()
        let store = try UserStore(path: "\(directory)/users.db", createIfMissing: true, policy: PasswordPolicy.insecureForTestsOnly(iterations: 1_000), clock: clock)
        try store.add(name: "alice", password: "alice-password", role: .admin)
        try store.add(name: "pete", password: "pete-password", role: .producer)
        try store.add(name: "carl", password: "carl-password", role: .consumer)
        let key = try SigningKey(secret: AuthRouteTests.secret)
        let worker = LoginWorker(authenticator: Authenticator(store: store, issuer: TokenIssuer(key: key, clock: clock)))
        let (node, router) = try await SingleNodeTests.startNode(gate: AuthGate(verifier: TokenVerifier(key: key, clock: clock)), loginWorker: worker)
        #expect(await SingleNodeTests.waitForMeta(node))
        let admin = try #require(await AuthRouteTests.login(router, "alice", "alice-password"))
        let producer = try #require(await AuthRouteTests.login(router, "pete", "pete-password"))
        let consumer = try #require(await AuthRouteTests.login(router, "carl", "carl-password"))
        func call(_ method: HTTPMethod, _ target: String, _ body: String? = nil, _ token: String?) async -> Int {
            await SingleNodeTests.call(router, method, target, body, token: token).0
        }

        let routes: [(HTTPMethod, String)] = [
            (.post, "/v1/exchanges"), (.get, "/v1/exchanges"), (.delete, "/v1/exchanges/x"), (.post, "/v1/exchanges/x/bindings"),
            (.get, "/v1/exchanges/x/bindings"), (.delete, "/v1/exchanges/x/bindings/1"), (.post, "/v1/exchanges/x/publish"),
            (.post, "/v1/topics/t/subscriptions"), (.get, "/v1/topics/t/subscriptions"), (.get, "/v1/topics/t/subscriptions/s"),
            (.delete, "/v1/topics/t/subscriptions/s"), (.get, "/v1/topics/t/subscriptions/s/records"), (.post, "/v1/topics/t/subscriptions/s/commit"),
            (.get, "/v1/topics/t/partitions/0"), (.get, "/v1/topics/t/subscriptions/s/partitions/0"),
            (.get, "/v1/topics/t/subscriptions/s/partitions/0/records"), (.post, "/v1/topics/t/subscriptions/s/partitions/0/commit"),
            (.post, "/v1/internal/topics/t/partitions/0/records"),
        ]
        for (method, target) in routes {
            #expect(await call(method, target, "{}", nil) == 401, "\(method) \(target) without a token")
            #expect(await call(method, target, "{}", admin + "x") == 401, "\(method) \(target) with a bad signature")
        }

        // Admin manages; producers and consumers may not.
        for token in [producer, consumer] {
            #expect(await call(.post, "/v1/exchanges", #"{"name":"x","type":"fanout"}"#, token) == 403)
            #expect(await call(.post, "/v1/topics/t/subscriptions", #"{"name":"s"}"#, token) == 403)
            #expect(await call(.delete, "/v1/exchanges/x", nil, token) == 403)
            #expect(await call(.post, "/v1/exchanges/x/bindings", #"{"destination":"t","destination_type":"topic"}"#, token) == 403)
        }
        #expect(await call(.post, "/v1/topics", #"{"name":"t"}"#, admin) == 201)
        #expect(await SingleNodeTests.waitForLeaders(node, count: 2))
        #expect(await call(.post, "/v1/exchanges", #"{"name":"x","type":"fanout"}"#, admin) == 201)
        #expect(await call(.post, "/v1/exchanges/x/bindings", #"{"destination":"t","destination_type":"topic"}"#, admin) == 201)
        #expect(await call(.post, "/v1/topics/t/subscriptions", #"{"name":"s","start":"earliest"}"#, admin) == 201)

        // Producers publish; consumers may not.
        let message = #"{"messages":[{"routing_key":"k","value":"v"}]}"#
        #expect(await call(.post, "/v1/exchanges/x/publish", message, consumer) == 403)
        #expect(await call(.post, "/v1/exchanges/x/publish", message, producer) == 200)
        // Consumers read and commit; producers may not.
        #expect(await call(.get, "/v1/topics/t/subscriptions/s/records", nil, producer) == 403)
        #expect(await call(.post, "/v1/topics/t/subscriptions/s/commit", #"{"offsets":[{"partition":0,"offset":1}]}"#, producer) == 403)
        #expect(await call(.get, "/v1/topics/t/subscriptions/s/records", nil, consumer) == 200)
        #expect(await call(.post, "/v1/topics/t/subscriptions/s/commit", #"{"offsets":[{"partition":0,"offset":1}]}"#, consumer) == 200)
        // Both may describe.
        for token in [producer, consumer] {
            #expect(await call(.get, "/v1/exchanges", nil, token) == 200)
            #expect(await call(.get, "/v1/exchanges/x/bindings", nil, token) == 200)
            #expect(await call(.get, "/v1/topics/t/subscriptions/s", nil, token) == 200)
        }
        #expect(await call(.delete, "/v1/topics/t/subscriptions/s", nil, consumer) == 403)
        #expect(await call(.delete, "/v1/topics/t/subscriptions/s", nil, admin) == 204)
        #expect(await call(.delete, "/v1/exchanges/x", nil, admin) == 204)
        worker.stop()
        await node.stop()
    }
}
