import MOMCore

/// A ReadIndex request the leader is confirming: the commit index when it arrived, who asked,
/// and which voters have acknowledged a heartbeat carrying its context.
struct PendingRead {
    let index: LogIndex
    /// The requester; the leader itself for local reads.
    let from: NodeID
    let context: [UInt8]
    var acknowledgements: [NodeID: Bool] = [:]
}

/// Linearizable reads without writing to the log (etcd's read_only.go, ReadOnlySafe): a read
/// may be served at the commit index once a quorum acknowledges a heartbeat sent after the
/// request arrived, which proves no newer leader existed at that moment.
struct ReadOnly {
    /// In arrival order. Invariant: contexts are unique; count <= `pendingMax`.
    private(set) var queue: [PendingRead] = []
    let pendingMax: Int

    init(pendingMax: Int) { self.pendingMax = pendingMax }

    /// Queues a request; false when full or when the context is already pending.
    mutating func add(index: LogIndex, from: NodeID, context: [UInt8]) -> Bool {
        guard queue.count < pendingMax, !queue.contains(where: { $0.context == context }) else { return false }
        queue.append(PendingRead(index: index, from: from, context: context))
        return true
    }

    /// Records `from`'s heartbeat acknowledgement of `context`; returns that request's acks.
    mutating func acknowledge(from: NodeID, context: [UInt8]) -> [NodeID: Bool]? {
        guard let position = queue.firstIndex(where: { $0.context == context }) else { return nil }
        queue[position].acknowledgements[from] = true
        return queue[position].acknowledgements
    }

    /// Removes and returns every request up to and including the one with `context`: a quorum
    /// that confirmed a later heartbeat confirms the earlier requests too.
    mutating func release(through context: [UInt8]) -> [PendingRead] {
        guard let position = queue.firstIndex(where: { $0.context == context }) else { return [] }
        let released = Array(queue[...position])
        queue.removeFirst(position + 1)
        return released
    }

    /// The newest pending context, which heartbeats carry.
    var lastContext: [UInt8]? { queue.last?.context }
}
