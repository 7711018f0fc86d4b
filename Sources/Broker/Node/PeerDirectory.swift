import Coordination
import MOMCore
import SystemIO

/// The live nodes and their addresses as the coordinator last reported them. Read by handlers
/// (to forward to a leader) and by the transport wiring (to dial peers).
final class PeerDirectory: @unchecked Sendable {
    private let lock = ConditionMutex()
    private var nodes: [NodeID: NodeRegistration] = [:]
    /// `nodes`' HTTP addresses, parsed once per update: a forward asks for one per request.
    private var httpAddresses: [NodeID: SocketAddress] = [:]

    func update(_ live: [NodeID: NodeRegistration]) {
        let parsed = live.compactMapValues { SocketAddress(parsing: $0.http) }
        lock.withLock {
            nodes = live
            httpAddresses = parsed
        }
    }

    var live: [NodeID: NodeRegistration] { lock.withLock { nodes } }

    func httpAddress(of node: NodeID) -> SocketAddress? {
        lock.withLock { httpAddresses[node] }
    }

    func raftAddresses() -> [NodeID: SocketAddress] {
        lock.withLock { nodes.compactMapValues { SocketAddress(parsing: $0.raft) } }
    }
}
