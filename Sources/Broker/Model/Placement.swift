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
    /// Each partition takes `replicationFactor` of the nodes with the fewest replicas, so the
    /// spread (max − min) of replica counts across live nodes never grows beyond
    /// max(its spread before, 1). Within that rule, the leader is the eligible node with the
    /// fewest leaderships, and followers prefer nodes that already lead (keeping nodes that lead
    /// little free to lead the next partition), which keeps leaderships even as well.
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
            let replicas = choose(replicationFactor, from: nodes, load: load)
            for node in replicas { load[node]!.replicas += 1 }
            load[replicas[0]]!.leaders += 1
            result.append(replicas)
        }
        return result
    }

    /// One partition's replica list, leader first. See `assign` for the rule.
    private static func choose(_ replicationFactor: Int, from nodes: [NodeID], load: [NodeID: NodeLoad]) -> [NodeID] {
        let byReplicas = nodes.sorted { (load[$0]!.replicas, $0.rawValue) < (load[$1]!.replicas, $1.rawValue) }
        // Any node with at most the replica count of the replicationFactor-th lowest may lead.
        let threshold = load[byReplicas[replicationFactor - 1]]!.replicas
        let leader = nodes.filter { load[$0]!.replicas <= threshold }.min { a, b in
            (load[a]!.leaders, load[a]!.replicas, a.rawValue) < (load[b]!.leaders, load[b]!.replicas, b.rawValue)
        }!
        let followers = nodes.filter { $0 != leader }.sorted { a, b in
            let la = load[a]!, lb = load[b]!
            if la.replicas != lb.replicas { return la.replicas < lb.replicas }
            if la.leaders != lb.leaders { return la.leaders > lb.leaders }
            return a.rawValue < b.rawValue
        }
        return [leader] + followers.prefix(replicationFactor - 1)
    }
}
