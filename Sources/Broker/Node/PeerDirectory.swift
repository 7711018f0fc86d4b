import Coordination
import MOMCore
import SystemIO

/// The live nodes and their addresses as the coordinator last reported them. Read by handlers
/// (to forward to a leader) and by the transport wiring (to dial peers).
final class PeerDirectory: @unchecked Sendable {
    private let lock = ConditionMutex()
    private var nodes: [NodeID: NodeRegistration] = [:]

    func update(_ live: [NodeID: NodeRegistration]) { lock.withLock { nodes = live } }

    var live: [NodeID: NodeRegistration] { lock.withLock { nodes } }

    func httpAddress(of node: NodeID) -> SocketAddress? {
        lock.withLock { nodes[node].flatMap { SocketAddress(parsing: $0.http) } }
    }

    func raftAddresses() -> [NodeID: SocketAddress] {
        lock.withLock { nodes.compactMapValues { SocketAddress(parsing: $0.raft) } }
    }
}
