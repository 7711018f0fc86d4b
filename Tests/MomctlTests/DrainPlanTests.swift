import MOMCore
import Testing
@testable import momctl

@Suite struct DrainPlanTests {
    static func partition(_ name: String, _ number: Int, _ replicas: [UInt64], kind: String = "topic") -> DrainPlan.Partition {
        DrainPlan.Partition(kind: kind, name: name, partition: number, replicas: replicas.map { NodeID($0) })
    }

    @Test func replacesTheNodeInPlaceByTheLeastLoadedSpare() throws {
        let partitions = [
            Self.partition("orders", 0, [3, 1, 2]),
            Self.partition("orders", 1, [1, 2, 4]),
            Self.partition("jobs", 0, [2, 3, 4], kind: "queue"),
        ]
        let live = [1, 2, 3, 4, 5].map { NodeID(UInt64($0)) }
        let moves = try DrainPlan.plan(draining: NodeID(3), partitions: partitions, liveNodes: live)
        // Node 5 holds nothing, so it takes the first move; for the second, 1 (two replicas)
        // and 5 (one, just given) are outside the set, and the less loaded wins.
        #expect(moves.map(\.partition) == [partitions[0], partitions[2]])
        #expect(moves[0].replicas == [5, 1, 2].map { NodeID(UInt64($0)) })
        #expect(moves[1].replicas == [2, 5, 4].map { NodeID(UInt64($0)) })
        #expect(!moves.contains { $0.replicas.contains(NodeID(3)) })
    }

    @Test func failsWhenNoNodeCanTakeThePlace() {
        let partitions = [Self.partition("orders", 0, [1, 2, 3])]
        #expect(throws: DrainPlan.Failure.noSpareNode(partitions[0])) {
            try DrainPlan.plan(draining: NodeID(3), partitions: partitions, liveNodes: [1, 2, 3].map { NodeID(UInt64($0)) })
        }
    }

    @Test func aNodeWithoutReplicasNeedsNoMoves() throws {
        let moves = try DrainPlan.plan(draining: NodeID(9), partitions: [Self.partition("t", 0, [1])], liveNodes: [NodeID(1)])
        #expect(moves.isEmpty)
    }
}
