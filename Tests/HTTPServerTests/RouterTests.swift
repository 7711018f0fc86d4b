import SystemIO
import Testing
@testable import HTTPServer

@Suite struct RouterTests {
    func makeRouter() -> Router {
        var router = Router()
        router.add(.get, "/healthz") { _ in .text(.ok, "ok") }
        router.add(.get, "/v1/topics") { _ in .text(.ok, "list") }
        router.add(.post, "/v1/topics") { _ in .text(.created, "created") }
        router.add(.get, "/v1/topics/{t}") { request in .text(.ok, "topic \(request.pathParameter("t") ?? "-")") }
        router.add(.get, "/v1/topics/{t}/partitions/{p}/records") { request in
            .text(.ok, "\(request.pathParameter("t")!)/\(request.pathParameter("p")!)/\(try request.queryInteger("offset") ?? 0)")
        }
        router.add(.get, "/v1/topics/{t}/subscriptions/{s}") { request in .text(.ok, "sub \(request.pathParameter("s")!)") }
        router.add(.get, "/v1/topics/special/partitions") { _ in .text(.ok, "literal") }
        router.add(.delete, "/v1/topics/{t}") { _ in
            throw HTTPError.notFound("topic does not exist")
        }
        return router
    }

    func body(_ response: HTTPResponse?) -> String? {
        response.map { String(decoding: $0.body, as: UTF8.self) }
    }

    @Test func matchesLiteralsAndParameters() {
        let router = makeRouter()
        #expect(body(router.respond(to: HTTPRequest(method: .get, target: "/healthz"))) == "ok")
        #expect(body(router.respond(to: HTTPRequest(method: .get, target: "/v1/topics/"))) == "list")
        #expect(body(router.respond(to: HTTPRequest(method: .get, target: "/v1/topics/orders"))) == "topic orders")
        #expect(body(router.respond(to: HTTPRequest(method: .get, target: "/v1/topics/a%20b"))) == "topic a b")
        #expect(body(router.respond(to: HTTPRequest(method: .get, target: "/v1/topics/o/partitions/2/records?offset=9"))) == "o/2/9")
        #expect(body(router.respond(to: HTTPRequest(method: .get, target: "/v1/topics/o/subscriptions/s1"))) == "sub s1")
        // A literal wins over a parameter; backtracking finds the parameter route otherwise.
        #expect(body(router.respond(to: HTTPRequest(method: .get, target: "/v1/topics/special/partitions"))) == "literal")
        #expect(body(router.respond(to: HTTPRequest(method: .get, target: "/v1/topics/special/partitions/1/records"))) == "special/1/0")
    }

    @Test func distinguishes404From405() throws {
        let router = makeRouter()
        let missing = try #require(router.respond(to: HTTPRequest(method: .get, target: "/v1/nothing")))
        #expect(missing.status == .notFound)
        let partial = try #require(router.respond(to: HTTPRequest(method: .get, target: "/v1/topics/o/partitions")))
        #expect(partial.status == .notFound)
        let wrongMethod = try #require(router.respond(to: HTTPRequest(method: .put, target: "/v1/topics")))
        #expect(wrongMethod.status == .methodNotAllowed)
        #expect(wrongMethod.headers["Allow"] == "GET, POST, HEAD")
        let body = try JSONValue(parsing: wrongMethod.body)
        #expect(body["error"]?["code"]?.stringValue == "method_not_allowed")
    }

    @Test func headFallsBackToGet() {
        #expect(makeRouter().respond(to: HTTPRequest(method: .head, target: "/healthz"))?.status == .ok)
    }

    @Test func thrownErrorsRender() {
        let router = makeRouter()
        #expect(router.respond(to: HTTPRequest(method: .delete, target: "/v1/topics/x"))?.status == .notFound)
        let badQuery = router.respond(to: HTTPRequest(method: .get, target: "/v1/topics/o/partitions/2/records?offset=x"))
        #expect(badQuery?.status == .badRequest)
        #expect(router.respond(to: HTTPRequest(method: .get, target: "/v1/topics/%ZZ"))?.status == .badRequest)
    }

    @Test func listsRoutesInRegistrationOrder() {
        let routes = makeRouter().routes
        #expect(routes.count == 8)
        #expect(routes[0].method == .get && routes[0].pattern == "/healthz")
        #expect(routes.contains { $0.method == .get && $0.pattern == "/v1/topics/{t}/partitions/{p}/records" })
    }

    @Test func deferredHandlerRespondsFromAnotherThread() async throws {
        var router = Router()
        router.addDeferred(.post, "/v1/topics/{t}/records") { request, responder in
            let topic = request.pathParameter("t") ?? ""
            _ = OSThread.start(name: "test-commit") { responder.send(.text(.ok, "committed \(topic)")) }
        }
        router.addAsync(.get, "/async") { _ in .text(.ok, "async") }
        #expect(body(await router.response(for: HTTPRequest(method: .post, target: "/v1/topics/t1/records"))) == "committed t1")
        #expect(body(await router.response(for: HTTPRequest(method: .get, target: "/async"))) == "async")
        #expect(body(router.respond(to: HTTPRequest(method: .post, target: "/v1/topics/t2/records"))) == "committed t2")
    }

    @Test func droppedResponderAnswers500AndOnlyFirstSendCounts() {
        var router = Router()
        router.addDeferred(.get, "/forgot") { _, _ in }
        router.addDeferred(.get, "/twice") { _, responder in
            #expect(responder.send(.text(.ok, "first")))
            #expect(!responder.send(.text(.ok, "second")))
            #expect(responder.hasResponded)
        }
        #expect(router.respond(to: HTTPRequest(method: .get, target: "/forgot"))?.status.code == 500)
        #expect(body(router.respond(to: HTTPRequest(method: .get, target: "/twice"))) == "first")
    }
}
