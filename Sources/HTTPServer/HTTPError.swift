/// An error that knows how it looks over HTTP (after hummingbird's `HTTPResponseError`).
/// Handlers throw these; the server renders them as
/// `{"error":{"code":"not_found","message":"…"}}` with `status`. Any other error is a 500.
public protocol HTTPResponseError: Error {
    /// The response status.
    var status: HTTPStatus { get }
    /// A stable, machine-readable snake_case code (`not_found`, `offset_out_of_range`).
    var code: String { get }
    /// A human message that names the thing and the fix.
    var message: String { get }
    /// Extra response headers (e.g. `Retry-After` on a 503, `Allow` on a 405).
    var headers: HTTPHeaders { get }
    /// Extra numeric fields of the error object, for a client to act on without parsing the
    /// message (a 416's `log_start_offset` and `high_watermark`).
    var details: [(name: String, value: UInt64)] { get }
}

extension HTTPResponseError {
    public var headers: HTTPHeaders { HTTPHeaders() }
    public var details: [(name: String, value: UInt64)] { [] }
}

/// The general-purpose `HTTPResponseError`: a status, a code, a message and optional headers.
public struct HTTPError: HTTPResponseError, Sendable, CustomStringConvertible, Equatable {
    public let status: HTTPStatus
    public let code: String
    public let message: String
    public let headers: HTTPHeaders
    public let details: [(name: String, value: UInt64)]

    /// An error with an explicit status, code and message.
    public init(_ status: HTTPStatus, code: String, message: String, headers: HTTPHeaders = HTTPHeaders(), details: [(name: String, value: UInt64)] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
        self.details = details
    }

    public static func == (left: HTTPError, right: HTTPError) -> Bool {
        left.status == right.status && left.code == right.code && left.message == right.message
    }

    public var description: String { "\(status.code) \(code): \(message)" }

    /// 400: the request is malformed.
    public static func badRequest(_ message: String, code: String = "bad_request") -> HTTPError {
        HTTPError(.badRequest, code: code, message: message)
    }

    /// 401: the bearer token is missing or invalid.
    public static func unauthorized(_ message: String) -> HTTPError {
        var headers = HTTPHeaders()
        headers.add(name: "WWW-Authenticate", value: "Bearer")
        return HTTPError(.unauthorized, code: "unauthorized", message: message, headers: headers)
    }

    /// 403: the caller lacks permission.
    public static func forbidden(_ message: String) -> HTTPError {
        HTTPError(.forbidden, code: "forbidden", message: message)
    }

    /// 404: the resource does not exist.
    public static func notFound(_ message: String) -> HTTPError {
        HTTPError(.notFound, code: "not_found", message: message)
    }

    /// 409: the resource already exists.
    public static func conflict(_ message: String, code: String = "already_exists") -> HTTPError {
        HTTPError(.conflict, code: code, message: message)
    }

    /// 413: the body is larger than the server accepts.
    public static func contentTooLarge(_ message: String) -> HTTPError {
        HTTPError(.contentTooLarge, code: "content_too_large", message: message)
    }

    /// 416: the offset is outside the log; the error object carries both bounds, so a client
    /// can restart from one without parsing the message.
    public static func offsetOutOfRange(_ message: String, logStart: UInt64, highWatermark: UInt64) -> HTTPError {
        HTTPError(.rangeNotSatisfiable, code: "offset_out_of_range", message: message,
                  details: [("log_start_offset", logStart), ("high_watermark", highWatermark)])
    }

    /// 503 with `Retry-After`: no leader, no quorum, or the server is saturated.
    public static func serviceUnavailable(_ message: String, retryAfterSeconds: Int = 1, code: String = "unavailable") -> HTTPError {
        var headers = HTTPHeaders()
        headers.add(name: "Retry-After", value: String(max(0, retryAfterSeconds)))
        return HTTPError(.serviceUnavailable, code: code, message: message, headers: headers)
    }

    /// The stand-in for an error that is not an `HTTPResponseError`: internal details stay
    /// in the server log, never in the response.
    public static let internalError = HTTPError(
        .internalServerError, code: "internal_error", message: "the server failed to handle the request; see the server log")
}
