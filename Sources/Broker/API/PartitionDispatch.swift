import HTTPServer
import MOMCore
import Replication
import SystemIO

/// Sending one partition's share of a request to wherever that partition is led: served here
/// when this node leads it, otherwise forwarded to the leader (or to a replica that knows it).
extension BrokerAPI {
    /// Runs `local` when this node leads `placement`'s group; forwards `request` (an ordinary
    /// per-partition REST request) otherwise. A hosted but leaderless group (a new partition, a
    /// failover) is waited on once, bounded, before giving up with 503.
    ///
    /// `responder` is made only when the request leaves this node (a responder dropped unused
    /// answers 500 to its sink).
    func dispatchToLeader(
        _ placement: PartitionPlacement, request: HTTPRequest, responder: @escaping @Sendable () -> HTTPResponder,
        waitedForLeader: Bool = false, local: @escaping @Sendable () -> Void
    ) {
        let status = node.host.status(of: placement.group)
        if status?.role == .leader { return local() }
        if status != nil && status?.leader == nil && !waitedForLeader {
            awaitLeaders(of: [placement.group], timeoutMilliseconds: leaderWaitMilliseconds) {
                self.dispatchToLeader(placement, request: request, responder: responder, waitedForLeader: true, local: local)
            }
            return
        }
        let target = status?.leader ?? placement.replicas.first { $0 != node.config.nodeID }
        guard let target, target != node.config.nodeID else {
            responder().send(error: HTTPError.serviceUnavailable(
                "partition group \(placement.group.rawValue) has no leader yet; retry", code: "no_leader"))
            return
        }
        forwarder.forward(request, to: target, responder: responder())
    }

    /// After a local attempt found that this node does not lead the group (any more): forwards
    /// to the leader it names, or answers with the error (503 for every transient case).
    func forwardOrFail(_ request: HTTPRequest, _ error: ReplicationError, responder: HTTPResponder) {
        if case .notLeader(let leader?) = error, leader != node.config.nodeID {
            forwarder.forward(request, to: leader, responder: responder)
        } else {
            responder.send(error: error.httpError)
        }
    }

    /// A request to another node on behalf of `original`: same credentials and hop count, so
    /// the receiver checks the caller's token and the hop bound still holds.
    static func subrequest(_ method: HTTPMethod, _ target: String, body: [UInt8] = [], from original: HTTPRequest) -> HTTPRequest {
        var headers = HTTPHeaders()
        for name in ["Authorization", Forwarder.hopsHeader] {
            if let value = original.headers[name] { headers.set(name: name, value: value) }
        }
        if !body.isEmpty { headers.set(name: "Content-Type", value: "application/json") }
        return HTTPRequest(method: method, target: target, headers: headers, body: body)
    }
}

/// Gathers the JSON answers of one request's per-partition shares and responds once: when all
/// arrived, when one failed (its error is the answer), or — for a long-poll — as soon as one
/// share answers `isDecisive`. Later answers are ignored.
final class PartitionGather: @unchecked Sendable {
    private let lock = ConditionMutex()
    private var answers: [JSONValue?]
    private var remaining: Int
    private var finished = false
    private let isDecisive: @Sendable (JSONValue) -> Bool
    private let completion: @Sendable (Result<[JSONValue?], HTTPError>) -> Void

    init(count: Int, isDecisive: @escaping @Sendable (JSONValue) -> Bool = { _ in false },
         completion: @escaping @Sendable (Result<[JSONValue?], HTTPError>) -> Void) {
        answers = Array(repeating: nil, count: count)
        remaining = count
        self.isDecisive = isDecisive
        self.completion = completion
        if count == 0 {
            finished = true
            completion(.success([]))
        }
    }

    /// The responder for share `index`.
    func responder(for index: Int) -> HTTPResponder {
        HTTPResponder { response in self.deliver(index, response) }
    }

    private func deliver(_ index: Int, _ response: HTTPResponse) {
        let outcome: Result<[JSONValue?], HTTPError>? = lock.withLock {
            guard !finished, answers[index] == nil else { return nil }
            guard response.status.code / 100 == 2, let json = try? JSONValue(parsing: response.body) else {
                finished = true
                return .failure(Self.error(from: response))
            }
            answers[index] = json
            remaining -= 1
            if remaining == 0 || isDecisive(json) {
                finished = true
                return .success(answers)
            }
            return nil
        }
        if let outcome { completion(outcome) }
    }

    /// The HTTP error a share answered with, keeping its status, code and Retry-After.
    static func error(from response: HTTPResponse) -> HTTPError {
        let error = (try? JSONValue(parsing: response.body))?["error"]
        let code = error?["code"]?.stringValue ?? "upstream_error"
        let message = error?["message"]?.stringValue ?? "a partition leader answered \(response.status.code)"
        var headers = HTTPHeaders()
        if let retry = response.headers["Retry-After"] { headers.set(name: "Retry-After", value: retry) }
        let status = response.status.code / 100 == 2 ? HTTPStatus.serviceUnavailable : response.status
        return HTTPError(status, code: code, message: message, headers: headers)
    }
}
