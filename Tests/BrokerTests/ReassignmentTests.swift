import HTTPServer
import MOMCore
import Testing
@testable import Broker

@Suite struct CatalogReassignmentTests {
    static func reassign(_ type: DestinationType, _ name: String, _ partition: UInt32, _ replicas: [UInt64]) -> CatalogCommand {
        .reassignPartition(ReassignPartition(
            destinationType: type, name: name, partition: PartitionID(partition), replicas: replicas.map { NodeID($0) }))
    }

    @Test func reassignmentMovesTheTargetAndKeepsTheInitialReplicas() throws {
        var catalog = Catalog()
        _ = catalog.apply(CatalogFixtures.createQueue("jobs", partitions: 2))
        let before = try #require(catalog.queue("jobs")?.partitions[1])
        let outcome = try catalog.apply(Self.reassign(.queue, "jobs", 1, [4, 2, 1])).get()
        let after = try #require(catalog.queue("jobs")?.partitions[1])
        #expect(after.replicas == [NodeID(4), NodeID(2), NodeID(1)])
        #expect(after.initialReplicas == before.replicas)
        #expect(after.group == before.group)
        let assignment = try #require(catalog.group(before.group))
        #expect(assignment.replicas == after.replicas && assignment.initialReplicas == before.replicas)
        #expect(outcome.reassignedGroups == [assignment])
        #expect(catalog.queue("jobs")?.partitions[0] == catalog.queue("jobs")?.partitions[0], "other partitions untouched")
        // A snapshot keeps both sets: a node restoring it bootstraps new replicas correctly.
        let restored = try CatalogSnapshot.decode(CatalogSnapshot.encode(catalog))
        #expect(restored == catalog)
        #expect(restored.group(before.group)?.initialReplicas == before.replicas)
    }

    @Test func badReassignmentsAreRefused() {
        var catalog = CatalogFixtures.populated()
        let unchanged = catalog
        func expect(_ command: CatalogCommand, _ status: Int, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
            guard case .failure(let error) = catalog.apply(command) else {
                Issue.record("\(command) was accepted", sourceLocation: sourceLocation)
                return
            }
            #expect(error.status == status && error.message.contains(text), "\(error)", sourceLocation: sourceLocation)
        }
        expect(Self.reassign(.topic, "nope", 0, [1, 2, 3]), 404, "topic 'nope'")
        expect(Self.reassign(.queue, "orders", 0, [1, 2, 3]), 404, "queue 'orders'")
        expect(Self.reassign(.topic, "orders", 3, [1, 2, 3]), 404, "no partition 3")
        expect(Self.reassign(.topic, "orders", 0, [1, 2]), 400, "exactly 3 replicas")
        expect(Self.reassign(.topic, "orders", 0, [1, 2, 2]), 400, "twice")
        expect(Self.reassign(.topic, "orders", 0, [1, 2, 0]), 400, "node 0")
        #expect(catalog == unchanged)
    }
}

@Suite struct ReassignmentPlanTests {
    static let n1 = NodeID(1), n2 = NodeID(2), n3 = NodeID(3), n4 = NodeID(4)

    static func plan(leader: NodeID = n1, voters: Set<NodeID>, learners: Set<NodeID> = [], lag: [NodeID: UInt64] = [:], target: [NodeID]) -> ReassignmentStep? {
        ReassignmentPlan.nextStep(leader: leader, voters: voters, learners: learners, lag: lag, target: target)
    }

    /// {1,2,3} → {1,2,4}, one single-server step at a time: learner, catch up, promote, remove.
    @Test func movesOneReplicaInFourSteps() {
        let target = [Self.n1, Self.n2, Self.n4]
        #expect(Self.plan(voters: [Self.n1, Self.n2, Self.n3], target: target) == .addLearner(Self.n4))
        #expect(Self.plan(voters: [Self.n1, Self.n2, Self.n3], learners: [Self.n4], lag: [Self.n4: 5_000], target: target)
                == .waitForCatchUp(Self.n4))
        #expect(Self.plan(voters: [Self.n1, Self.n2, Self.n3], learners: [Self.n4], lag: [Self.n4: 3], target: target)
                == .promote(Self.n4))
        #expect(Self.plan(voters: [Self.n1, Self.n2, Self.n3, Self.n4], target: target) == .remove(Self.n3))
        #expect(Self.plan(voters: [Self.n1, Self.n2, Self.n4], target: target) == nil)
    }

    @Test func aLeavingLeaderHandsOverToTheMostCaughtUpTargetVoter() {
        let step = Self.plan(leader: Self.n3, voters: [Self.n1, Self.n2, Self.n3, Self.n4],
                             lag: [Self.n1: 9, Self.n2: 0, Self.n4: 4], target: [Self.n1, Self.n2, Self.n4])
        #expect(step == .handOver(to: Self.n2))
    }

    @Test func anUnwantedLearnerGoesFirstAndOtherVotersBeforeTheLeader() {
        #expect(Self.plan(voters: [Self.n1, Self.n2, Self.n3], learners: [Self.n4], target: [Self.n1, Self.n2, Self.n3])
                == .remove(Self.n4))
        // {1,2,3} → {2,3,4} led by 1 after 4 was promoted: 1 leaves last, by handing over.
        #expect(Self.plan(voters: [Self.n1, Self.n2, Self.n3, Self.n4], lag: [Self.n2: 0, Self.n3: 0, Self.n4: 0],
                          target: [Self.n2, Self.n3, Self.n4]) == .handOver(to: Self.n2))
        #expect(Self.plan(voters: [Self.n1, Self.n2, Self.n3, Self.n4], target: [Self.n1, Self.n4]) == .remove(Self.n2))
    }
}

@Suite struct ReassignRouteTests {
    /// Bad input is a 400 (or 404) JSON error before anything is proposed; a good one is 202.
    @Test func validatesTheReplicaSet() async throws {
        let (node, router) = try await SingleNodeTests.startNode()
        #expect(await SingleNodeTests.waitForMeta(node))
        #expect(await SingleNodeTests.call(router, .post, "/v1/topics", #"{"name":"t","partitions":2}"#).0 == 201)
        func expectError(_ target: String, _ body: String, _ status: Int, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) async {
            let (code, json) = await SingleNodeTests.call(router, .post, target, body)
            #expect(code == status, "\(target) \(body): \(String(describing: json))", sourceLocation: sourceLocation)
            let message = json?["error"]?["message"]?.stringValue ?? ""
            #expect(message.contains(text) && json?["error"]?["code"]?.stringValue != nil, "\(message)", sourceLocation: sourceLocation)
        }
        await expectError("/v1/topics/t/partitions/0/reassign", #"{"replicas":[5]}"#, 400, "node 5 is not a live")
        await expectError("/v1/topics/t/partitions/0/reassign", #"{"replicas":[1,1]}"#, 400, "exactly 1 replicas")
        await expectError("/v1/topics/t/partitions/0/reassign", #"{"replicas":"1"}"#, 400, "'replicas' is required")
        await expectError("/v1/topics/t/partitions/0/reassign", #"{"replicas":[0]}"#, 400, "positive node IDs")
        await expectError("/v1/topics/t/partitions/7/reassign", #"{"replicas":[1]}"#, 404, "no partition 7")
        await expectError("/v1/queues/t/partitions/0/reassign", #"{"replicas":[1]}"#, 404, "queue 't'")
        let (code, json) = await SingleNodeTests.call(router, .post, "/v1/topics/t/partitions/1/reassign", #"{"replicas":[1]}"#)
        #expect(code == 202)
        #expect(json?["replicas"]?.arrayValue?.compactMap(\.int64Value) == [1])
        #expect(json?["previous_replicas"]?.arrayValue?.compactMap(\.int64Value) == [1])
        await node.stop()
    }
}
