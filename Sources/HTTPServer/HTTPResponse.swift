/// One HTTP response. The serializer adds `Content-Length` and `Connection`; handlers set the
/// rest. Bodies are whole byte arrays: MOM's responses are bounded by `Limits.readBytesMax`.
public struct HTTPResponse: Sendable {
    /// The status line's code.
    public var status: HTTPStatus
    /// Header fields other than Content-Length and Connection (the serializer owns those).
    public var headers: HTTPHeaders
    /// The body bytes.
    public var body: [UInt8]

    /// A response with optional headers and body.
    public init(status: HTTPStatus, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response from already-serialized bytes (see `JSONWriter`).
    public static func json(_ status: HTTPStatus = .ok, bytes: [UInt8]) -> HTTPResponse {
        HTTPResponse(status: status, headers: jsonHeaders, body: bytes)
    }

    /// Built once and shared (copy-on-write): every produce answer and relay answer is JSON,
    /// and building the field list allocated twice per response.
    private static let jsonHeaders: HTTPHeaders = {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        return headers
    }()

    /// A JSON response from a `JSONValue`.
    public static func json(_ status: HTTPStatus = .ok, _ value: JSONValue) -> HTTPResponse {
        json(status, bytes: value.serialized())
    }

    /// A plain-text response (`/metrics` uses the Prometheus text format).
    public static func text(_ status: HTTPStatus = .ok, _ text: String, contentType: String = "text/plain; charset=utf-8") -> HTTPResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        return HTTPResponse(status: status, headers: headers, body: Array(text.utf8))
    }

    /// The rendered form of any error: an `HTTPResponseError` keeps its status, code and
    /// message; anything else becomes a 500 whose message reveals nothing internal.
    public init(error: any Error) {
        let rendered = (error as? any HTTPResponseError) ?? HTTPError.internalError
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("error")
        writer.beginObject()
        writer.key("code")
        writer.string(rendered.code)
        writer.key("message")
        writer.string(rendered.message)
        for detail in rendered.details {
            writer.key(detail.name)
            writer.unsigned(detail.value)
        }
        writer.endObject()
        writer.endObject()
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        for field in rendered.headers { headers.add(name: field.name, value: field.value) }
        self.init(status: rendered.status, headers: headers, body: writer.bytes)
    }
}
