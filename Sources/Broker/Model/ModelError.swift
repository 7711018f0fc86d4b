/// The error type of the broker's pure cores. Like hummingbird's `HTTPResponseError`, it carries
/// its HTTP status and REST error code, so a handler turns it into
/// `{"error":{"code":…,"message":…}}` without a mapping table. Messages name the thing and the fix.
struct ModelError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The HTTP status the REST contract (DESIGN.md §4) gives this failure.
    let status: Int
    /// The machine-readable code, e.g. `not_found`.
    let code: String
    /// A sentence for humans naming the resource and what to do.
    let message: String

    static func badRequest(_ message: String) -> ModelError {
        ModelError(status: 400, code: "bad_request", message: message)
    }

    static func notFound(_ message: String) -> ModelError {
        ModelError(status: 404, code: "not_found", message: message)
    }

    static func alreadyExists(_ message: String) -> ModelError {
        ModelError(status: 409, code: "already_exists", message: message)
    }

    /// Transient: retrying later can succeed (no live nodes, no quorum).
    static func unavailable(_ message: String) -> ModelError {
        ModelError(status: 503, code: "unavailable", message: message)
    }

    var description: String { "\(status) \(code): \(message)" }
}
