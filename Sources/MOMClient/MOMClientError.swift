/// Everything a MOMClient call can throw. Why typed: callers decide between "fix the request"
/// (`.server` with a 4xx), "try later" (`.server` 503, `.transport`, `.timeout`) and "bug"
/// (`.decoding`, `.invalidArgument`) without parsing strings.
public enum MOMClientError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The server answered with an error status and the contract's `{"error":{"code","message"}}`.
    case server(status: Int, code: String, message: String)
    /// The connection could not be made or broke mid-request (refused, reset, closed early).
    case transport(String)
    /// A connect, send or receive did not complete in time, or the retry budget ran out.
    case timeout(String)
    /// The response was not the JSON (or HTTP) the contract promises.
    case decoding(String)
    /// The caller passed something the client cannot send (bad server address, oversize input).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .server(let status, let code, let message):
            return "server error \(status) \(code): \(message)"
        case .transport(let detail):
            return "transport error: \(detail)"
        case .timeout(let detail):
            return "timeout: \(detail)"
        case .decoding(let detail):
            return "cannot decode the response: \(detail)"
        case .invalidArgument(let detail):
            return "invalid argument: \(detail)"
        }
    }

    /// Whether repeating the same request may succeed: 503 (no leader / quorum), and lost or
    /// slow connections. Why not 5xx in general: a 500 is a server bug that a retry repeats.
    var isRetryable: Bool {
        switch self {
        case .server(let status, _, _): return status == 503
        case .transport, .timeout: return true
        case .decoding, .invalidArgument: return false
        }
    }
}
