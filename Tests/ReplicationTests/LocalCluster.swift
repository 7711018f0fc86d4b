import Glibc
import MOMCore
import Raft
import SystemIO
@testable import Replication

/// Connects in-process hosts directly: `send` hands the payload to the peer's `receive`.
/// A cut link drops everything, like a partition.
final class LocalLinks: @unchecked Sendable {
    private let lock = ConditionMutex()
    private var hosts: [NodeID: ReplicationHost] = [:]
    private var cut: Set<NodeID> = []
    private var raftPayloads = 0
    private var keepAlives = 0

    /// Payloads delivered so far: Raft messages and heartbeat batches, and apart from them the
    /// nodes' keep-alives (empty heartbeat batches).
    var delivered: (raft: Int, keepAlives: Int) { lock.withLock { (raftPayloads, keepAlives) } }

    func register(_ host: ReplicationHost) { lock.withLock { hosts[host.nodeID] = host } }
    func isolate(_ node: NodeID) { lock.withLock { _ = cut.insert(node) } }
    func heal(_ node: NodeID) { lock.withLock { _ = cut.remove(node) } }

    func deliver(from: NodeID, to: NodeID, group: GroupID, payload: [UInt8]) {
        let target: ReplicationHost? = lock.withLock {
            if cut.contains(from) || cut.contains(to) { return nil }
            if group == HeartbeatBatch.channel && payload == HeartbeatBatch.encode([]) { keepAlives += 1 } else { raftPayloads += 1 }
            return hosts[to]
        }
        target?.receive(from: from, group: group, payload: payload)
    }

    func link(for node: NodeID) -> PeerLink { Link(owner: node, links: self) }

    private final class Link: PeerLink, @unchecked Sendable {
        let owner: NodeID
        let links: LocalLinks
        init(owner: NodeID, links: LocalLinks) { self.owner = owner; self.links = links }
        func send(to peer: NodeID, group: GroupID, payload: [UInt8]) {
            links.deliver(from: owner, to: peer, group: group, payload: payload)
        }
    }
}

/// Records what a group applied, for assertions.
final class RecordingStateMachine: GroupStateMachine, @unchecked Sendable {
    private let lock = ConditionMutex()
    private var applied: [Entry] = []

    func apply(_ entries: [Entry], group: GroupID) { lock.withLock { applied += entries } }
    func restore(_ snapshot: Snapshot, group: GroupID) { lock.withLock { applied.removeAll() } }
    func snapshotData(group: GroupID) -> [UInt8] { [] }

    /// The data of applied normal entries with a payload (leaders' no-ops are empty;
    /// membership changes are not the application's).
    var payloads: [[UInt8]] { lock.withLock { applied.filter { $0.kind == .normal && !$0.data.isEmpty }.map(\.data) } }
}

/// Polls `condition` until it holds or ~30 s pass. It sleeps with `Task.sleep`, never blocking a
/// thread of the cooperative pool (other tests' tasks need it, and the machine has 2 cores).
func eventually(_ condition: () -> Bool) async -> Bool {
    let clock = SystemClock()
    let deadline = clock.monotonicNanoseconds() + 30_000_000_000
    while clock.monotonicNanoseconds() < deadline {
        if condition() { return true }
        try? await Task.sleep(nanoseconds: 5_000_000)
    }
    return condition()
}

/// Waits for a completion-style callback, up to ~30 s.
final class Outcome<Value: Sendable>: @unchecked Sendable {
    private let lock = ConditionMutex()
    private var value: Value?

    func set(_ newValue: Value) { lock.withLock { value = newValue }; lock.broadcast() }

    /// The value if set, without waiting.
    func peek() -> Value? { lock.withLock { value } }

    /// The value, polled without blocking a thread, up to ~30 s.
    func wait() async -> Value? {
        let clock = SystemClock()
        let deadline = clock.monotonicNanoseconds() + 30_000_000_000
        while clock.monotonicNanoseconds() < deadline {
            if let value = lock.withLock({ value }) { return value }
            try? await Task.sleep(nanoseconds: 2_000_000)
        }
        return lock.withLock { value }
    }
}
