/// Why a request could not be parsed. Each case maps to the status RFC 9110/9112 prescribes;
/// after any of them the server answers and closes, because the byte stream can no longer be
/// trusted to be framed correctly.
public enum HTTPParseError: Error, Equatable, Sendable {
    /// The request line is not `METHOD SP target SP HTTP/x.y`.
    case malformedRequestLine
    /// The method is a valid token that MOM does not implement (501).
    case unsupportedMethod
    /// The target is not an origin-form path, absolute URI or `*`.
    case malformedTarget
    /// HTTP/2 or other versions on an HTTP/1 connection (505).
    case unsupportedVersion
    /// A header line is malformed (no colon, bad name, control bytes, obs-fold).
    case malformedHeader
    /// The request line alone exceeds the header budget (414).
    case requestLineTooLong
    /// The header section exceeds `headerBytesMax` or has too many fields (431).
    case headerSectionTooLarge
    /// Content-Length is not a decimal number, or repeated with different values.
    case invalidContentLength
    /// Content-Length exceeds `bodyBytesMax` (413).
    case bodyTooLarge
    /// `Transfer-Encoding: chunked` request bodies are not supported (411: send Content-Length).
    case chunkedBodyNotSupported
    /// A transfer coding other than chunked (501).
    case unsupportedTransferEncoding
    /// Both Content-Length and Transfer-Encoding: a request-smuggling vector (RFC 9112 §6.3).
    case conflictingFraming

    /// The error response for this failure.
    public var httpError: HTTPError {
        switch self {
        case .malformedRequestLine:
            .badRequest("malformed request line; expected 'METHOD /path HTTP/1.1'")
        case .unsupportedMethod:
            HTTPError(.notImplemented, code: "not_implemented",
                      message: "method not implemented; use GET, HEAD, POST, PUT, DELETE, PATCH or OPTIONS")
        case .malformedTarget:
            .badRequest("malformed request target; expected an absolute path such as /v1/topics")
        case .unsupportedVersion:
            HTTPError(.httpVersionNotSupported, code: "http_version_not_supported",
                      message: "only HTTP/1.1 and HTTP/1.0 are supported")
        case .malformedHeader:
            .badRequest("malformed header field; expected 'Name: value' without control characters or line folding")
        case .requestLineTooLong:
            HTTPError(.uriTooLong, code: "uri_too_long", message: "request line exceeds the header size limit")
        case .headerSectionTooLarge:
            HTTPError(.requestHeaderFieldsTooLarge, code: "header_fields_too_large",
                      message: "request header section exceeds the size or field-count limit")
        case .invalidContentLength:
            .badRequest("Content-Length must be one non-negative decimal number")
        case .bodyTooLarge:
            .contentTooLarge("request body exceeds the body size limit; send smaller batches")
        case .chunkedBodyNotSupported:
            HTTPError(.lengthRequired, code: "length_required",
                      message: "chunked request bodies are not supported; send the body with Content-Length")
        case .unsupportedTransferEncoding:
            HTTPError(.notImplemented, code: "not_implemented",
                      message: "transfer codings are not supported; send the body with Content-Length")
        case .conflictingFraming:
            .badRequest("request has both Content-Length and Transfer-Encoding")
        }
    }
}
