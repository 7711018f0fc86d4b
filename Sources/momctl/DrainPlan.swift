import MOMCore

/// Which replica sets `momctl node drain N` asks for: every partition on N gets N replaced, in
/// place (so the preferred-leader order is kept otherwise), by the live node that holds the
/// fewest replicas so far and is not already in the set. Pure, so it is tested without a server.
enum DrainPlan {
    struct Partition: Equatable, Sendable {
        var kind: String
        var name: String
        var partition: Int
        var replicas: [NodeID]
    }

    struct Move: Equatable, Sendable {
        var partition: Partition
        var replicas: [NodeID]
    }

    enum Failure: Error, Equatable {
        /// No live node outside the partition's replica set is left to take N's place.
        case noSpareNode(Partition)
    }

    static func plan(draining node: NodeID, partitions: [Partition], liveNodes: [NodeID]) throws(Failure) -> [Move] {
        var load: [NodeID: Int] = [:]
        for candidate in liveNodes where candidate != node { load[candidate] = 0 }
        for partition in partitions {
            for replica in partition.replicas where load[replica] != nil { load[replica]! += 1 }
        }
        var moves: [Move] = []
        for partition in partitions where partition.replicas.contains(node) {
            let spare = load.keys
                .filter { !partition.replicas.contains($0) }
                .min { (load[$0]!, $0) < (load[$1]!, $1) }
            guard let spare else { throw .noSpareNode(partition) }
            load[spare]! += 1
            moves.append(Move(partition: partition, replicas: partition.replicas.map { $0 == node ? spare : $0 }))
        }
        return moves
    }
}
