import Synchronization
import Testing
@testable import HTTPServer

/// `Router.wrapHandlers`: middleware sees each route's method and registered pattern (not the
/// request path), wraps every handler exactly once, and leaves routing itself unchanged.
@Suite struct RouterWrapTests {
    @Test func wrapperSeesTemplatesAndWrapsEveryHandler() async {
        var router = RouterTests().makeRouter()
        let registered = router.routes.map { "\($0.method.rawValue) \($0.pattern)" }
        let seen = Mutex<[String]>([])
        let calls = Mutex<[String]>([])
        router.wrapHandlers { method, pattern, handler in
            seen.withLock { $0.append("\(method.rawValue) \(pattern)") }
            return { request, responder in
                calls.withLock { $0.append("\(method.rawValue) \(pattern)") }
                handler(request, responder)
            }
        }
        #expect(seen.withLock { $0 }.sorted() == registered.sorted())
        let response = await router.response(for: HTTPRequest(method: .get, target: "/v1/topics/orders/partitions/2/records?offset=5"))
        #expect(String(decoding: response.body, as: UTF8.self) == "orders/2/5")
        #expect(await router.response(for: HTTPRequest(method: .delete, target: "/v1/topics/x")).status.code == 404)
        #expect(await router.response(for: HTTPRequest(method: .get, target: "/nowhere")).status.code == 404)
        #expect(calls.withLock { $0 } == ["GET /v1/topics/{t}/partitions/{p}/records", "DELETE /v1/topics/{t}"])
    }
}
