import Auth
import HTTPServer
import MOMCore
import SystemIO
import Testing
@testable import Broker

/// Roles on the queue routes: admins manage queues, producers send, consumers receive and ack;
/// everyone with a token may describe. No token (or a bad one) is 401 everywhere.
@Suite struct QueueAuthTests {
    @Test func rolesGuardEveryQueueRoute() async throws {
        let key = try SigningKey(secret: AuthRouteTests.secret)
        let clock = SystemClock()
        let directory = try FileSystemCalls.makeTemporaryDirectory(prefix: "mom-queue-auth-")
        let policy = PasswordPolicy.insecureForTestsOnly(iterations: 1_000)
        let store = try UserStore(path: "\(directory)/users.db", createIfMissing: true, policy: policy, clock: clock)
        try store.add(name: "alice", password: "alice-password", role: .admin)
        try store.add(name: "pete", password: "pete-password", role: .producer)
        try store.add(name: "carl", password: "carl-password", role: .consumer)
        let worker = LoginWorker(authenticator: Authenticator(store: store, issuer: TokenIssuer(key: key, clock: clock)))
        let gate = AuthGate(verifier: TokenVerifier(key: key, clock: clock), internalIssuer: TokenIssuer(key: key, clock: clock))
        let (node, router) = try await SingleNodeTests.startNode(gate: gate, loginWorker: worker)
        #expect(await SingleNodeTests.waitForMeta(node))
        let admin = try #require(await AuthRouteTests.login(router, "alice", "alice-password"))
        let producer = try #require(await AuthRouteTests.login(router, "pete", "pete-password"))
        let consumer = try #require(await AuthRouteTests.login(router, "carl", "carl-password"))
        let call = { (method: HTTPMethod, target: String, body: String?, token: String?) in
            await SingleNodeTests.call(router, method, target, body, token: token).0
        }

        let routes: [(HTTPMethod, String)] = [
            (.post, "/v1/queues"), (.get, "/v1/queues"), (.get, "/v1/queues/q"), (.delete, "/v1/queues/q"),
            (.post, "/v1/queues/q/messages"), (.post, "/v1/queues/q/receive"), (.post, "/v1/queues/q/ack"),
            (.post, "/v1/queues/q/partitions/0/receive"), (.post, "/v1/queues/q/partitions/0/messages"),
            (.post, "/v1/queues/q/partitions/0/ack"), (.get, "/v1/queues/q/partitions/0"),
        ]
        for (method, target) in routes {
            #expect(await call(method, target, "{}", nil) == 401, "\(method) \(target) without a token")
            #expect(await call(method, target, "{}", consumer + "x") == 401, "\(method) \(target) with a bad signature")
        }
        let create = #"{"name":"q","partitions":1,"ack_timeout_ms":60000,"max_deliveries":1}"#
        #expect(await call(.post, "/v1/queues", create, producer) == 403)
        #expect(await call(.post, "/v1/queues", create, consumer) == 403)
        #expect(await call(.post, "/v1/queues", create, admin) == 201)
        #expect(await SingleNodeTests.waitForLeaders(node, count: 3))
        for token in [admin, producer, consumer] {
            #expect(await call(.get, "/v1/queues", nil, token) == 200)
            #expect(await call(.get, "/v1/queues/q", nil, token) == 200)
        }
        let send = #"{"messages":[{"value":"v"}]}"#
        #expect(await call(.post, "/v1/queues/q/messages", send, consumer) == 403, "a consumer may not send")
        #expect(await call(.post, "/v1/queues/q/messages", send, producer) == 200)
        #expect(await call(.post, "/v1/queues/q/receive", "{}", producer) == 403, "a producer may not receive")
        #expect(await call(.post, "/v1/queues/q/ack", #"{"receipts":["1-0-0-1-0000000000000001"]}"#, producer) == 403)
        let (received, json) = await SingleNodeTests.call(router, .post, "/v1/queues/q/receive", "{}", token: consumer)
        #expect(received == 200)
        let receipt = try #require(json?["messages"]?.arrayValue?.first?["receipt"]?.stringValue)
        #expect(await call(.post, "/v1/queues/q/ack", #"{"receipts":["\#(receipt)"]}"#, consumer) == 200)
        #expect(await call(.delete, "/v1/queues/q", nil, consumer) == 403)
        #expect(await call(.delete, "/v1/queues/q", nil, admin) == 204)
        worker.stop()
        await node.stop()
    }

    /// The dead-letter move writes with the node's own short-lived token, whoever received.
    @Test func internalTokenIsAProducerToken() throws {
        let key = try SigningKey(secret: AuthRouteTests.secret)
        let clock = SystemClock()
        let gate = AuthGate(verifier: TokenVerifier(key: key, clock: clock), internalIssuer: TokenIssuer(key: key, clock: clock))
        let authorization = try #require(gate.internalAuthorization())
        let request = HTTPRequest(method: .post, target: "/v1/queues/q.dead-letter/partitions/0/messages",
                                  headers: HTTPHeaders([("Authorization", authorization)]))
        #expect(throws: Never.self) { try gate.check(request, .publish) }
        #expect(throws: HTTPError.self) { try gate.check(request, .manageQueues) }
        #expect(AuthGate(verifier: nil).internalAuthorization() == nil)
    }
}
