import HTTPServer
import MOMCore

extension BrokerNode {
    /// Whether this node's catalog can be trusted to say a resource does NOT exist: its `__meta`
    /// replica knows a leader and has applied every entry in its own log.
    ///
    /// A restarted node learns the commit index only from a leader, so until then its catalog is
    /// empty (or old) although its log on disk holds the topics; a node cut off from the majority
    /// may miss recent creations. Answering 404 "does not exist" from such a catalog is wrong —
    /// and a node that forwards to it relays the 404 — so the API answers 503 instead (clients retry).
    var catalogIsCurrent: Bool {
        guard let status = host.status(of: MetaStateMachine.group) else { return false }
        return status.leader != nil && status.applied >= status.lastIndex
    }

    /// `notFound` when the catalog is current, else a 503 saying the metadata is catching up.
    func missing(_ notFound: HTTPError) -> HTTPError {
        catalogIsCurrent ? notFound
            : .serviceUnavailable("this node's metadata is catching up (no __meta leader known yet); retry", code: "metadata_unavailable")
    }
}
