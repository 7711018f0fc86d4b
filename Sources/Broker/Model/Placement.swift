import MOMCore

/// How many replicas, and how many preferred leaderships (first replicas), a node carries.
struct NodeLoad: Hashable, Sendable {
    var replicas: Int = 0
    var leaders: Int = 0
}

/// Chooses replica sets for new partitions, pure and deterministic (ties break by node ID), so
/// the proposer's choice is reproducible in tests. The choice travels inside the catalog command;
/// replicas never recompute it.
enum Placement {
    /// The load the catalog's existing groups put on each node, counted the same way
    /// (replica lists' first entry = preferred leader).
    static func load(of groups: [GroupAssignment]) -> [NodeID: NodeLoad] {
        var load: [NodeID: NodeLoad] = [:]
        for group in groups {
            for (index, node) in group.replicas.enumerated() {
                load[node, default: NodeLoad()].replicas += 1
                if index == 0 { load[node, default: NodeLoad()].leaders += 1 }
            }
        }
        return load
    }

    /// Replica lists for `partitions` partitions of `replicationFactor` distinct live nodes each.
    ///
    /// Each partition takes the `replicationFactor` nodes with the fewest replicas (then fewest
    /// leaders, then lowest ID), and its preferred leader is the one of those with the fewest
    /// leaderships. So the spread (max − min) of replica counts across live nodes never grows
    /// beyond max(its spread before, 1), and from an empty cluster leaders spread evenly too.
    ///
    /// Errors: no live node at all is 503 `unavailable` (transient: nodes are restarting);
    /// a replication factor above the live node count is 400 `bad_request`, as Kafka answers
    /// INVALID_REPLICATION_FACTOR: waiting would not help unless the operator adds nodes,
    /// and the message says so.
    static func assign(
        partitions: Int, replicationFactor: Int, liveNodes: [NodeID], existingLoad: [NodeID: NodeLoad] = [:],
        limits: Limits = .standard
    ) throws(ModelError) -> [[NodeID]] {
        guard (1...limits.partitionsPerResourceMax).contains(partitions) else {
            throw .badRequest("partitions must be between 1 and \(limits.partitionsPerResourceMax), not \(partitions)")
        }
        guard (1...limits.replicationFactorMax).contains(replicationFactor) else {
            throw .badRequest("replication_factor must be between 1 and \(limits.replicationFactorMax), not \(replicationFactor)")
        }
        let nodes = Array(Set(liveNodes)).sorted()
        guard !nodes.isEmpty else {
            throw .unavailable("no live broker nodes are registered; retry when nodes have joined")
        }
        guard replicationFactor <= nodes.count else {
            throw .badRequest("replication_factor \(replicationFactor) exceeds the \(nodes.count) live nodes; use at most \(nodes.count) or start more nodes")
        }
        var load = Dictionary(uniqueKeysWithValues: nodes.map { ($0, existingLoad[$0] ?? NodeLoad()) })
        var result: [[NodeID]] = []
        result.reserveCapacity(partitions)
        for _ in 0..<partitions {
            let chosen = nodes.sorted { a, b in
                let la = load[a]!, lb = load[b]!
                return (la.replicas, la.leaders, a.rawValue) < (lb.replicas, lb.leaders, b.rawValue)
            }.prefix(replicationFactor)
            let leader = chosen.min { a, b in
                let la = load[a]!, lb = load[b]!
                return (la.leaders, la.replicas, a.rawValue) < (lb.leaders, lb.replicas, b.rawValue)
            }!
            let replicas = [leader] + chosen.filter { $0 != leader }
            for node in replicas { load[node]!.replicas += 1 }
            load[leader]!.leaders += 1
            result.append(replicas)
        }
        return result
    }
}
