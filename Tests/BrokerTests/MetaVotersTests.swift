import MOMCore
import Testing
@testable import Broker

/// `__meta`'s target voters: validation, persistence in snapshots, the plan the `__meta` leader
/// follows (`ReassignmentPlan` keeping its other learners), and dead learners expiring.
@Suite struct MetaVotersTests {
    static func ids(_ raw: [UInt64]) -> [NodeID] { raw.map { NodeID($0) } }

    @Test func targetIsRecordedAndSurvivesASnapshot() throws {
        var catalog = CatalogFixtures.populated()
        #expect(catalog.metaVoters == nil)
        _ = try catalog.apply(.reassignMeta(voters: Self.ids([1, 2, 4]))).get()
        #expect(catalog.metaVoters == Self.ids([1, 2, 4]))
        let restored = try CatalogSnapshot.decode(CatalogSnapshot.encode(catalog))
        #expect(restored == catalog)
        #expect(restored.metaVoters == Self.ids([1, 2, 4]))
        // The target takes part in equality, so replicas that disagree on it are told apart.
        var other = catalog
        _ = try other.apply(.reassignMeta(voters: Self.ids([1, 2, 3]))).get()
        #expect(other != catalog)
    }

    @Test func aVersion2SnapshotDecodesWithoutATarget() throws {
        let catalog = CatalogFixtures.populated()
        var bytes = CatalogSnapshot.encode(catalog)
        #expect(bytes.first == 3 && bytes.last == 0, "version 3 ends with an absent target")
        bytes[0] = 2
        bytes.removeLast()
        let restored = try CatalogSnapshot.decode(bytes)
        #expect(restored == catalog && restored.metaVoters == nil)
        bytes[0] = 3
        #expect(throws: DecodeError.self) { try CatalogSnapshot.decode(bytes) }
        #expect(throws: DecodeError.self) { try CatalogSnapshot.decode(bytes + [2]) }
    }

    @Test func badVoterSetsAreRefused() {
        var catalog = CatalogFixtures.populated()
        let unchanged = catalog
        func expect(_ voters: [UInt64], _ text: String, sourceLocation: SourceLocation = #_sourceLocation) {
            guard case .failure(let error) = catalog.apply(.reassignMeta(voters: Self.ids(voters))) else {
                Issue.record("\(voters) was accepted", sourceLocation: sourceLocation)
                return
            }
            #expect(error.status == 400 && error.message.contains(text), "\(error)", sourceLocation: sourceLocation)
        }
        expect([], "1 to 64 voters")
        expect(Array(1...65), "not 65")
        expect([1, 2, 2], "twice")
        expect([1, 0, 2], "node 0")
        #expect(catalog == unchanged)
        #expect(throws: Never.self) { try catalog.validate(.reassignMeta(voters: Self.ids([7]))) }
        #expect(throws: Never.self) { try catalog.validate(.reassignMeta(voters: Self.ids([1, 2, 3, 4]))) }
    }

    static func plan(leader: UInt64 = 1, voters: [UInt64], learners: [UInt64] = [], lag: [UInt64: UInt64] = [:], target: [UInt64]) -> ReassignmentStep? {
        ReassignmentPlan.nextStep(
            leader: NodeID(leader), voters: Set(ids(voters)), learners: Set(ids(learners)),
            lag: Dictionary(uniqueKeysWithValues: lag.map { (NodeID($0.key), $0.value) }), target: ids(target),
            keepingOtherLearners: true)
    }

    /// {1,2,3} with learners 4 and 5 → {1,2,4}: promote 4 once caught up, remove 3; learner 5
    /// (another live broker following the catalog) stays throughout.
    @Test func metaPlanPromotesThenRemovesAndKeepsOtherLearners() {
        #expect(Self.plan(voters: [1, 2, 3], learners: [4, 5], lag: [4: 1_000], target: [1, 2, 4]) == .waitForCatchUp(NodeID(4)))
        #expect(Self.plan(voters: [1, 2, 3], learners: [4, 5], lag: [4: 3], target: [1, 2, 4]) == .promote(NodeID(4)))
        #expect(Self.plan(voters: [1, 2, 3, 4], learners: [5], target: [1, 2, 4]) == .remove(NodeID(3)))
        #expect(Self.plan(voters: [1, 2, 4], learners: [3, 5], target: [1, 2, 4]) == nil, "the removed voter may follow as a learner")
        // A partition's plan (the default) would remove the learners nobody targets.
        #expect(ReassignmentPlan.nextStep(
            leader: NodeID(1), voters: Set(Self.ids([1, 2, 4])), learners: [NodeID(5)], lag: [:], target: Self.ids([1, 2, 4]))
            == .remove(NodeID(5)))
    }

    @Test func metaLeaderThatLeavesHandsOverToTheClosestTargetVoter() {
        #expect(Self.plan(leader: 3, voters: [1, 2, 3, 4], lag: [1: 9, 2: 0, 4: 5], target: [1, 2, 4]) == .handOver(to: NodeID(2)))
        #expect(Self.plan(leader: 3, voters: [1, 2, 3], learners: [4], target: [1, 2, 4]) == .waitForCatchUp(NodeID(4)))
        #expect(Self.plan(leader: 2, voters: [1, 2, 3, 4], target: [1, 2, 4]) == .remove(NodeID(3)))
    }

    @Test func aMissingTargetNodeIsAddedAsALearnerFirst() {
        #expect(Self.plan(voters: [1, 2, 3], learners: [5], target: [1, 2, 4]) == .addLearner(NodeID(4)))
    }

    @Test func learnerGoneForTheGraceIsRemovedOneAtATime() {
        var expiry = LearnerExpiry(graceMilliseconds: 30_000)
        let learners = Set(Self.ids([4, 5, 6]))
        func observe(live: [UInt64], target: [UInt64] = [], at now: UInt64) -> NodeID? {
            expiry.observe(learners: learners, live: Set(Self.ids(live)), targetVoters: Set(Self.ids(target)), nowMilliseconds: now)
        }
        #expect(observe(live: [1, 2, 3, 4, 5, 6], at: 0) == nil)
        #expect(observe(live: [1, 2, 3, 6], at: 1_000) == nil, "4 and 5 just left")
        #expect(observe(live: [1, 2, 3, 6], at: 30_999) == nil)
        #expect(observe(live: [1, 2, 3, 6], at: 31_000) == NodeID(4), "the lowest first")
        // 5 came back meanwhile: its clock restarts when it is gone again.
        #expect(observe(live: [1, 2, 3, 5, 6], at: 32_000) == NodeID(4))
        #expect(observe(live: [1, 2, 3, 6], at: 33_000) == NodeID(4))
        #expect(expiry.absentSince[NodeID(5)] == 33_000)
        // A target voter is never expired; forgotten state restarts every clock.
        #expect(observe(live: [1, 2, 3], target: [4, 5, 6], at: 99_000) == nil)
        expiry.reset()
        #expect(observe(live: [1, 2, 3], at: 100_000) == nil)
        #expect(observe(live: [1, 2, 3], at: 130_000) == NodeID(4))
    }
}
