import HTTPServer
import MOMCore
import Replication

extension ModelError {
    /// The REST error: the model already chose the status and code.
    var httpError: HTTPError {
        if status == 503 { return .serviceUnavailable(message, code: code) }
        return HTTPError(HTTPStatus(code: status), code: code, message: message)
    }
}

extension ReplicationError {
    /// The REST error for a replication failure. Unknown outcomes are 503 too: the client
    /// retries, with its producer id and sequence when it needs exactly-once.
    var httpError: HTTPError {
        switch self {
        case .notLeader(let leader):
            let where_ = leader.map { "node \($0.rawValue) leads it" } ?? "no leader is elected yet"
            return .serviceUnavailable("this partition has no reachable leader here (\(where_)); retry", code: "no_leader")
        case .unknownGroup(let group):
            return .serviceUnavailable("group \(group.rawValue) is not hosted on this node yet; retry", code: "unavailable")
        case .overloaded:
            return .serviceUnavailable("the node is overloaded; retry with backoff", code: "overloaded")
        case .outcomeUnknown:
            return .serviceUnavailable("leadership changed before the write committed; its outcome is unknown, retry with the same producer_id and sequence to make it idempotent", code: "outcome_unknown")
        case .stopped:
            return .serviceUnavailable("the node is shutting down; retry on another node", code: "unavailable")
        case .storageFailed(let reason):
            return HTTPError(.internalServerError, code: "storage_failed", message: "the partition's disk failed on this node: \(reason)")
        case .timedOut:
            return .serviceUnavailable("timed out waiting for the partition", code: "timeout")
        }
    }
}

extension HTTPResponder {
    /// The answer to a route's failure: a model error with the status and code it chose,
    /// anything else as `HTTPResponse(error:)` maps it.
    @discardableResult
    func send(routeError error: any Error) -> Bool {
        if let error = error as? ModelError { return send(error: error.httpError) }
        return send(error: error)
    }
}
