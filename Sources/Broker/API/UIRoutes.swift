import HTTPServer

/// One file of the built-in web console (`/ui`). The console is static HTML, CSS and JS kept as
/// Swift string literals, so momd ships it inside its one binary: no build step, no resource
/// directory to install or to find at run time, and a test can check every asset in process.
struct UIAsset: Sendable {
    /// The request path, e.g. `/ui/app.js`.
    let path: String
    /// The `Content-Type` it is served with.
    let contentType: String
    /// The file's text.
    let body: String
}

/// The console's assets and the headers they are served with.
enum UIAssets {
    /// Every asset, the page first. The page references the others by these paths.
    static let all: [UIAsset] = [
        UIAsset(path: "/ui", contentType: "text/html; charset=utf-8", body: UIPage.html),
        UIAsset(path: "/ui/app.css", contentType: "text/css; charset=utf-8", body: UIPage.css),
        UIAsset(path: "/ui/app.js", contentType: "text/javascript; charset=utf-8", body: UIScript.javascript),
    ]

    /// Scripts and styles only from this origin's files (no inline script or style, no eval),
    /// data only from this origin's REST API, and no framing: rendered record values can never
    /// run as code, even if the escaping in app.js had a hole.
    static let contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        + "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

    /// The response for one asset. `no-cache` makes browsers revalidate, so a momd upgrade is
    /// seen at once; the files are a few tens of KiB, so caching them hard would gain little.
    static func response(for asset: UIAsset) -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.set(name: "Content-Type", value: asset.contentType)
        headers.set(name: "Cache-Control", value: "no-cache")
        headers.set(name: "Content-Security-Policy", value: contentSecurityPolicy)
        headers.set(name: "X-Content-Type-Options", value: "nosniff")
        headers.set(name: "X-Frame-Options", value: "DENY")
        headers.set(name: "Referrer-Policy", value: "no-referrer")
        return HTTPResponse(status: .ok, headers: headers, body: Array(asset.body.utf8))
    }
}

/// `GET /ui`, `/ui/app.css`, `/ui/app.js`: the static shell of the web console. These routes
/// take no token on purpose (the files hold no data); every data call the page makes goes to
/// the REST API with the user's bearer token, behind the same gate as any other client.
extension BrokerAPI {
    func registerUI(_ router: inout Router) {
        for asset in UIAssets.all {
            let response = UIAssets.response(for: asset)
            router.add(.get, asset.path) { _ in response }
        }
    }
}
