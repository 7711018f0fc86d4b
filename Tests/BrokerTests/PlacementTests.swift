import MOMCore
import Testing
@testable import Broker

@Suite struct PlacementTests {
    private func nodes(_ count: Int) -> [NodeID] { (1...UInt64(count)).map(NodeID.init) }

    private func spread(_ values: [Int]) -> Int { (values.max() ?? 0) - (values.min() ?? 0) }

    private func loads(_ assignment: [[NodeID]], nodes: [NodeID], base: [NodeID: NodeLoad] = [:]) -> [NodeID: NodeLoad] {
        var load = Dictionary(uniqueKeysWithValues: nodes.map { ($0, base[$0] ?? NodeLoad()) })
        for replicas in assignment {
            for (index, node) in replicas.enumerated() {
                load[node]!.replicas += 1
                if index == 0 { load[node]!.leaders += 1 }
            }
        }
        return load
    }

    @Test func threeByThreeOnThreeNodesRotatesLeaders() throws {
        let result = try Placement.assign(partitions: 3, replicationFactor: 3, liveNodes: nodes(3))
        #expect(Set(result.map { $0[0] }) == Set(nodes(3)))
        for replicas in result { #expect(Set(replicas) == Set(nodes(3))) }
    }

    @Test func errorsFollowTheContract() {
        #expect(throws: ModelError.badRequest("replication_factor 3 exceeds the 2 live nodes; use at most 2 or start more nodes")) {
            try Placement.assign(partitions: 1, replicationFactor: 3, liveNodes: nodes(2))
        }
        do {
            _ = try Placement.assign(partitions: 1, replicationFactor: 1, liveNodes: [])
            Issue.record("placed on no nodes")
        } catch {
            #expect(error.status == 503)
        }
        #expect(throws: ModelError.self) { try Placement.assign(partitions: 0, replicationFactor: 1, liveNodes: nodes(1)) }
        #expect(throws: ModelError.self) { try Placement.assign(partitions: 1, replicationFactor: 0, liveNodes: nodes(1)) }
    }

    @Test func duplicateLiveNodesCountOnce() {
        #expect(throws: ModelError.self) {
            try Placement.assign(partitions: 1, replicationFactor: 2, liveNodes: [NodeID(1), NodeID(1)])
        }
    }

    @Test func balancedFromEmptyOnRandomInputs() throws {
        for seed in TestSeed.seeds(count: 1000, base: 1) {
            var random = SeededRandom(seed: seed)
            let live = nodes(random.uniform(in: 1...9))
            let replicationFactor = random.uniform(in: 1...min(live.count, 7))
            let partitions = random.uniform(in: 1...64)
            let result = try Placement.assign(partitions: partitions, replicationFactor: replicationFactor, liveNodes: live)
            #expect(result.count == partitions, "MOM_SEED=\(seed)")
            for replicas in result {
                #expect(replicas.count == replicationFactor && Set(replicas).count == replicationFactor, "MOM_SEED=\(seed)")
                #expect(replicas.allSatisfy(live.contains), "MOM_SEED=\(seed)")
            }
            let load = loads(result, nodes: live)
            #expect(spread(load.values.map(\.replicas)) <= 1, "MOM_SEED=\(seed) \(load)")
            #expect(spread(load.values.map(\.leaders)) <= 1, "MOM_SEED=\(seed) \(load)")
        }
    }

    @Test func neverWidensTheReplicaSpreadOfExistingLoad() throws {
        for seed in TestSeed.seeds(count: 200, base: 1000) {
            var random = SeededRandom(seed: seed)
            let live = nodes(random.uniform(in: 1...9))
            var existing: [NodeID: NodeLoad] = [:]
            for node in live {
                let replicas = random.uniform(in: 0...20)
                existing[node] = NodeLoad(replicas: replicas, leaders: random.uniform(in: 0...replicas))
            }
            let replicationFactor = random.uniform(in: 1...min(live.count, 7))
            let partitions = random.uniform(in: 1...40)
            let result = try Placement.assign(
                partitions: partitions, replicationFactor: replicationFactor, liveNodes: live, existingLoad: existing)
            let before = spread(existing.values.map(\.replicas))
            let after = spread(loads(result, nodes: live, base: existing).values.map(\.replicas))
            #expect(after <= max(before, 1), "MOM_SEED=\(seed) before \(before) after \(after)")
            #expect(result.allSatisfy { Set($0).count == replicationFactor }, "MOM_SEED=\(seed)")
            // Deterministic: the same input gives the same answer.
            let again = try Placement.assign(
                partitions: partitions, replicationFactor: replicationFactor, liveNodes: live.reversed(), existingLoad: existing)
            #expect(again == result, "MOM_SEED=\(seed)")
        }
    }

    @Test func loadCountsExistingGroups() {
        let groups = [
            GroupAssignment(group: GroupID(1), owner: GroupOwner(destinationType: .topic, name: "t", partition: PartitionID(0)),
                            replicas: [NodeID(1), NodeID(2)]),
            GroupAssignment(group: GroupID(2), owner: GroupOwner(destinationType: .topic, name: "t", partition: PartitionID(1)),
                            replicas: [NodeID(2), NodeID(3)]),
        ]
        let load = Placement.load(of: groups)
        #expect(load[NodeID(1)] == NodeLoad(replicas: 1, leaders: 1))
        #expect(load[NodeID(2)] == NodeLoad(replicas: 2, leaders: 1))
        #expect(load[NodeID(3)] == NodeLoad(replicas: 1, leaders: 0))
    }
}
