import HTTPServer
import MOMCore
import SystemIO

/// Transparent forwarding to the node that can serve a request (a partition leader, the
/// `__meta` leader). A forwarded request carries a hop count; a node never forwards a request
/// that already took `hopsMax` hops, so a stale view can't bounce a request around forever.
struct Forwarder: Sendable {
    static let hopsHeader = "X-MOM-Hops"
    static let hopsMax = 2

    let pool: HTTPClientPool
    let peers: PeerDirectory
    /// Carries small writes over the node link when it can (`NodeRelay.carries`); nil: HTTP only.
    var relay: NodeRelay? = nil

    /// Another node's answer as this node passes it on: without the framing fields of the hop
    /// it came over (this node's server sets its own). Used for HTTP and node-link forwarding.
    static func relayed(_ response: HTTPResponse) -> HTTPResponse {
        var passed = response
        passed.headers.remove(name: "Connection")
        passed.headers.remove(name: "Content-Length")
        return passed
    }

    /// Forwards `request` to `node` and answers through `responder` with whatever it answers.
    func forward(_ request: HTTPRequest, to node: NodeID, responder: HTTPResponder) {
        let hops = Int(request.headers[Self.hopsHeader] ?? "0") ?? 0
        guard hops < Self.hopsMax else {
            responder.send(error: HTTPError.serviceUnavailable("the request was forwarded \(hops) times without reaching a leader; retry", code: "no_leader"))
            return
        }
        guard let address = peers.httpAddress(of: node) else {
            responder.send(error: HTTPError.serviceUnavailable("node \(node.rawValue) is not registered as live; retry", code: "no_leader"))
            return
        }
        var forwarded = request
        forwarded.headers.set(name: Self.hopsHeader, value: "\(hops + 1)")
        forwarded.headers.remove(name: "Connection")
        if let relay, relay.call(forwarded, to: node, responder: responder) { return }
        let accepted = pool.send(forwarded, to: address) { result in
            switch result {
            case .success(let response):
                responder.send(Self.relayed(response))
            case .failure(let error):
                responder.send(error: HTTPError.serviceUnavailable("forwarding to node \(node.rawValue) failed: \(error); retry", code: "forward_failed"))
            }
        }
        if !accepted {
            responder.send(error: HTTPError.serviceUnavailable("too many requests are being forwarded; retry", code: "overloaded"))
        }
    }
}
