import Auth
import HTTPServer
import SystemIO
import Testing
@testable import Broker

/// The web console's static shell: public routes, headers, and a page that references only
/// assets that exist and elements that exist.
@Suite struct UIRouteTests {
    static func get(_ router: Router, _ target: String) async -> HTTPResponse {
        await router.response(for: HTTPRequest(method: .get, target: target, headers: HTTPHeaders(), body: []))
    }

    /// Every quoted value after `attribute="` in `text`.
    static func attributeValues(_ attribute: String, in text: String) -> [String] {
        text.components(separatedBy: "\(attribute)=\"").dropFirst().compactMap { $0.split(separator: "\"", maxSplits: 1).first.map(String.init) }
    }

    @Test func assetsArePublicWithStrictHeadersWhileDataNeedsAToken() async throws {
        let key = try SigningKey(secret: AuthRouteTests.secret)
        let (node, router) = try await SingleNodeTests.startNode(gate: AuthGate(verifier: TokenVerifier(key: key, clock: SystemClock())))
        let expectedTypes = ["/ui": "text/html; charset=utf-8", "/ui/app.css": "text/css; charset=utf-8", "/ui/app.js": "text/javascript; charset=utf-8"]
        #expect(Set(UIAssets.all.map(\.path)) == Set(expectedTypes.keys))
        for (path, contentType) in expectedTypes {
            let response = await Self.get(router, path)
            #expect(response.status.code == 200, "\(path) needs no token")
            #expect(response.headers["Content-Type"] == contentType, "\(path)")
            #expect(response.headers["Cache-Control"] == "no-cache", "\(path)")
            #expect(response.headers["X-Content-Type-Options"] == "nosniff", "\(path)")
            let policy = try #require(response.headers["Content-Security-Policy"], "\(path)")
            #expect(policy.contains("default-src 'none'") && policy.contains("script-src 'self';") && policy.contains("frame-ancestors 'none'"))
            #expect(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"), "no inline script or eval: \(policy)")
            #expect(!response.body.isEmpty)
        }
        #expect(await Self.get(router, "/ui/").status.code == 200, "a trailing slash routes alike")
        #expect(await Self.get(router, "/ui/missing.js").status.code == 404)
        #expect(await SingleNodeTests.call(router, .get, "/v1/topics").0 == 401, "data stays behind the token")
        #expect(await SingleNodeTests.call(router, .get, "/v1/cluster").0 == 401, "data stays behind the token")
        await node.stop()
    }

    @Test func pageReferencesOnlyServedAssetsAndNoInlineCode() throws {
        let html = UIPage.html
        let served = Set(UIAssets.all.map(\.path))
        let references = Self.attributeValues("src", in: html) + Self.attributeValues("href", in: html)
        #expect(Set(references) == served.subtracting(["/ui"]), "the page loads exactly the other assets: \(references)")
        // Every <script> has a src (the CSP would block an inline one anyway), and no inline
        // style attribute or event handler attribute is present.
        #expect(html.components(separatedBy: "<script").count - 1 == Self.attributeValues("src", in: html).count)
        #expect(!html.contains("style=") && !html.contains(" onclick=") && !html.contains(" onsubmit=") && !html.contains(" onload="))
    }

    @Test func scriptBuildsNodesAsTextAndFindsEveryElementItUses() throws {
        let script = UIScript.javascript
        for forbidden in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "localStorage", ".style."] {
            #expect(!script.contains(forbidden), "app.js must not use \(forbidden)")
        }
        #expect(script.contains("sessionStorage.setItem"), "the token lives in sessionStorage")
        let ids = Set(Self.attributeValues("id", in: UIPage.html))
        let used = script.components(separatedBy: "byId(\"").dropFirst().compactMap { $0.split(separator: "\"", maxSplits: 1).first.map(String.init) }
        #expect(used.count > 20)
        for id in used { #expect(ids.contains(id), "app.js uses #\(id), which the page lacks") }
        // Every view a tab names has its section.
        for view in Self.attributeValues("data-view", in: UIPage.html) { #expect(ids.contains("\(view)-view"), "tab \(view)") }
    }
}
