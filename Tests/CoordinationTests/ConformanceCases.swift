import Testing
@testable import Coordination
import MOMCore

/// The one conformance suite every `Coordinator` passes. Each case runs against a fresh
/// `CoordinationCluster`; InMemoryCoordinatorTests and ZooKeeperCoordinatorTests run them all.
enum ConformanceCase: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case registrationIsListed
    case twoNodesSeeEachOther
    case nodeWatchSeesJoinAndLeave
    case duplicateNodeIsRejected
    case secondRegistrationIsRejected
    case deregisterRemovesNode
    case membershipLifecycle
    case createExistingGroupFails
    case missingGroupIsNotFound
    case compareAndSetConflictIsDetected
    case concurrentCompareAndSetHasOneWinner
    case membershipWatchSeesChanges
    case invalidMembershipIsRejected
    case groupsAreListed
    case closedCoordinatorRefusesCalls

    var testDescription: String { rawValue }

    func run(in cluster: any CoordinationCluster) async throws {
        switch self {
        case .registrationIsListed: try await Self.registrationIsListed(cluster)
        case .twoNodesSeeEachOther: try await Self.twoNodesSeeEachOther(cluster)
        case .nodeWatchSeesJoinAndLeave: try await Self.nodeWatchSeesJoinAndLeave(cluster)
        case .duplicateNodeIsRejected: try await Self.duplicateNodeIsRejected(cluster)
        case .secondRegistrationIsRejected: try await Self.secondRegistrationIsRejected(cluster)
        case .deregisterRemovesNode: try await Self.deregisterRemovesNode(cluster)
        case .membershipLifecycle: try await Self.membershipLifecycle(cluster)
        case .createExistingGroupFails: try await Self.createExistingGroupFails(cluster)
        case .missingGroupIsNotFound: try await Self.missingGroupIsNotFound(cluster)
        case .compareAndSetConflictIsDetected: try await Self.compareAndSetConflictIsDetected(cluster)
        case .concurrentCompareAndSetHasOneWinner: try await Self.concurrentCompareAndSetHasOneWinner(cluster)
        case .membershipWatchSeesChanges: try await Self.membershipWatchSeesChanges(cluster)
        case .invalidMembershipIsRejected: try await Self.invalidMembershipIsRejected(cluster)
        case .groupsAreListed: try await Self.groupsAreListed(cluster)
        case .closedCoordinatorRefusesCalls: try await Self.closedCoordinatorRefusesCalls(cluster)
        }
    }

    static let three = GroupMembership(replicas: [NodeID(1), NodeID(2), NodeID(3)], learners: [NodeID(4)], epoch: 1)

    private static func registrationIsListed(_ cluster: any CoordinationCluster) async throws {
        let node = try await cluster.makeCoordinator()
        #expect(try await node.liveNodes().isEmpty)
        try await node.register(NodeID(1), at: registration(1))
        #expect(try await node.liveNodes() == [NodeID(1): registration(1)])
        // Registering the identical node again is a no-op.
        try await node.register(NodeID(1), at: registration(1))
        #expect(try await node.liveNodes() == [NodeID(1): registration(1)])
        #expect(node.sessionState == .connected)
        #expect(!node.isStale)
    }

    private static func twoNodesSeeEachOther(_ cluster: any CoordinationCluster) async throws {
        let first = try await cluster.makeCoordinator()
        let second = try await cluster.makeCoordinator()
        try await first.register(NodeID(1), at: registration(1))
        try await second.register(NodeID(2), at: registration(2))
        let expected = [NodeID(1): registration(1), NodeID(2): registration(2)]
        #expect(try await first.liveNodes() == expected)
        #expect(try await second.liveNodes() == expected)
    }

    private static func nodeWatchSeesJoinAndLeave(_ cluster: any CoordinationCluster) async throws {
        let observer = try await cluster.makeCoordinator()
        let recorder = WatchRecorder(observer.watchLiveNodes())
        #expect(await recorder.waitFor { $0.isEmpty })
        let joining = try await cluster.makeCoordinator()
        try await joining.register(NodeID(7), at: registration(7))
        #expect(await recorder.waitFor { $0 == [NodeID(7): registration(7)] })
        let seen = recorder.all.count
        await joining.close()  // the session ends, so the registration goes
        #expect(await recorder.waitFor(skipping: seen) { $0.isEmpty })
    }

    private static func duplicateNodeIsRejected(_ cluster: any CoordinationCluster) async throws {
        let first = try await cluster.makeCoordinator()
        let second = try await cluster.makeCoordinator()
        try await first.register(NodeID(5), at: registration(5))
        await expectError(.alreadyExists(.node(NodeID(5)))) { () async throws(CoordinationError) in
            try await second.register(NodeID(5), at: registration(6))
        }
        #expect(try await second.liveNodes() == [NodeID(5): registration(5)])
    }

    private static func secondRegistrationIsRejected(_ cluster: any CoordinationCluster) async throws {
        let node = try await cluster.makeCoordinator()
        try await node.register(NodeID(1), at: registration(1))
        do throws(CoordinationError) {
            try await node.register(NodeID(2), at: registration(2))
            Issue.record("a coordinator registered two nodes")
        } catch {
            guard case .invalidArgument = error else { Issue.record("unexpected \(error)"); return }
        }
        #expect(try await node.liveNodes() == [NodeID(1): registration(1)])
    }

    private static func deregisterRemovesNode(_ cluster: any CoordinationCluster) async throws {
        let node = try await cluster.makeCoordinator()
        let observer = try await cluster.makeCoordinator()
        try await node.register(NodeID(3), at: registration(3))
        #expect(try await observer.liveNodes().keys.sorted() == [NodeID(3)])
        try await node.deregister()
        try await node.deregister()  // idempotent
        #expect(try await observer.liveNodes().isEmpty)
        // Deregistered, the coordinator may register again.
        try await node.register(NodeID(3), at: registration(3))
        #expect(try await observer.liveNodes().keys.sorted() == [NodeID(3)])
    }

    private static func membershipLifecycle(_ cluster: any CoordinationCluster) async throws {
        let writer = try await cluster.makeCoordinator()
        let reader = try await cluster.makeCoordinator()
        let group = GroupID(42)
        let created = try await writer.createMembership(three, for: group)
        #expect(created == VersionedMembership(membership: three, version: .initial))
        #expect(try await reader.membership(of: group) == created)
        var next = three
        next.learners = []
        next.replicas.append(NodeID(4))
        next.epoch = 2
        let updated = try await reader.compareAndSetMembership(next, for: group, expectedVersion: created.version)
        #expect(updated.membership == next)
        #expect(updated.version == MembershipVersion(1))
        #expect(try await writer.membership(of: group) == updated)
    }

    private static func createExistingGroupFails(_ cluster: any CoordinationCluster) async throws {
        let first = try await cluster.makeCoordinator()
        let second = try await cluster.makeCoordinator()
        _ = try await first.createMembership(three, for: GroupID(1))
        await expectError(.alreadyExists(.group(GroupID(1)))) { () async throws(CoordinationError) in
            try await second.createMembership(three, for: GroupID(1))
        }
        #expect(try await second.membership(of: GroupID(1)).version == .initial)
    }

    private static func missingGroupIsNotFound(_ cluster: any CoordinationCluster) async throws {
        let node = try await cluster.makeCoordinator()
        await expectError(.notFound(.group(GroupID(9)))) { () async throws(CoordinationError) in
            try await node.membership(of: GroupID(9))
        }
        await expectError(.notFound(.group(GroupID(9)))) { () async throws(CoordinationError) in
            try await node.compareAndSetMembership(three, for: GroupID(9), expectedVersion: .initial)
        }
    }

    private static func compareAndSetConflictIsDetected(_ cluster: any CoordinationCluster) async throws {
        let first = try await cluster.makeCoordinator()
        let second = try await cluster.makeCoordinator()
        let group = GroupID(3)
        let created = try await first.createMembership(three, for: group)
        var winner = three
        winner.epoch = 2
        _ = try await first.compareAndSetMembership(winner, for: group, expectedVersion: created.version)
        var loser = three
        loser.epoch = 99
        await expectError(.conflict(group: group, expectedVersion: created.version)) { () async throws(CoordinationError) in
            try await second.compareAndSetMembership(loser, for: group, expectedVersion: created.version)
        }
        let stored = try await second.membership(of: group)
        #expect(stored.membership == winner)
        #expect(stored.version == MembershipVersion(1))
    }

    private static func concurrentCompareAndSetHasOneWinner(_ cluster: any CoordinationCluster) async throws {
        let group = GroupID(11)
        var coordinators: [any Coordinator] = []
        for _ in 0..<4 { coordinators.append(try await cluster.makeCoordinator()) }
        let created = try await coordinators[0].createMembership(three, for: group)
        let outcomes = await withTaskGroup(of: Result<VersionedMembership, CoordinationError>.self) { tasks in
            for (index, coordinator) in coordinators.enumerated() {
                var proposal = three
                proposal.epoch = UInt64(10 + index)
                tasks.addTask { [proposal] in
                    do throws(CoordinationError) {
                        return .success(try await coordinator.compareAndSetMembership(
                            proposal, for: group, expectedVersion: created.version))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            var outcomes: [Result<VersionedMembership, CoordinationError>] = []
            for await outcome in tasks { outcomes.append(outcome) }
            return outcomes
        }
        let winners = outcomes.compactMap { try? $0.get() }
        #expect(winners.count == 1)
        let conflicts = outcomes.filter { $0 == .failure(.conflict(group: group, expectedVersion: created.version)) }
        #expect(conflicts.count == coordinators.count - 1)
        #expect(try await coordinators[1].membership(of: group) == winners.first)
    }

    private static func membershipWatchSeesChanges(_ cluster: any CoordinationCluster) async throws {
        let watcher = try await cluster.makeCoordinator()
        let writer = try await cluster.makeCoordinator()
        let group = GroupID(5)
        let recorder = WatchRecorder(watcher.watchMembership(of: group))
        #expect(await recorder.waitFor { $0 == nil })
        let created = try await writer.createMembership(three, for: group)
        #expect(await recorder.waitFor { $0 == created })
        var next = three
        next.epoch = 7
        let updated = try await writer.compareAndSetMembership(next, for: group, expectedVersion: created.version)
        #expect(await recorder.waitFor { $0 == updated })
        // Snapshots never go back in version.
        let versions = recorder.all.compactMap { $0?.version }
        #expect(versions == versions.sorted())
    }

    private static func invalidMembershipIsRejected(_ cluster: any CoordinationCluster) async throws {
        let node = try await cluster.makeCoordinator()
        let invalid = [
            GroupMembership(replicas: [], epoch: 1),
            GroupMembership(replicas: [NodeID(1), NodeID(1)], epoch: 1),
            GroupMembership(replicas: [NodeID(1)], learners: [NodeID(1)], epoch: 1),
            GroupMembership(replicas: (0..<65).map(NodeID.init), epoch: 1),
        ]
        for membership in invalid {
            do throws(CoordinationError) {
                _ = try await node.createMembership(membership, for: GroupID(1))
                Issue.record("accepted invalid membership \(membership)")
            } catch {
                guard case .invalidArgument = error else { Issue.record("unexpected \(error)"); continue }
            }
        }
        await expectError(.notFound(.group(GroupID(1)))) { () async throws(CoordinationError) in
            try await node.membership(of: GroupID(1))
        }
        do throws(CoordinationError) {
            try await node.register(NodeID(1), at: NodeRegistration(http: "", raft: "127.0.0.1:1"))
            Issue.record("accepted an empty address")
        } catch {
            guard case .invalidArgument = error else { Issue.record("unexpected \(error)"); return }
        }
    }

    private static func groupsAreListed(_ cluster: any CoordinationCluster) async throws {
        let node = try await cluster.makeCoordinator()
        #expect(try await node.groups().isEmpty)
        for raw: UInt64 in [30, 2, 100] {
            _ = try await node.createMembership(three, for: GroupID(raw))
        }
        #expect(try await node.groups() == [GroupID(2), GroupID(30), GroupID(100)])
    }

    private static func closedCoordinatorRefusesCalls(_ cluster: any CoordinationCluster) async throws {
        let node = try await cluster.makeCoordinator()
        let observer = try await cluster.makeCoordinator()
        try await node.register(NodeID(8), at: registration(8))
        let recorder = WatchRecorder(node.watchLiveNodes())
        #expect(await recorder.waitFor { !$0.isEmpty })
        await node.close()
        await node.close()  // idempotent
        #expect(node.sessionState == .closed)
        await expectError(.closed) { () async throws(CoordinationError) in try await node.liveNodes() }
        await expectError(.closed) { () async throws(CoordinationError) in try await node.membership(of: GroupID(1)) }
        await expectError(.closed) { () async throws(CoordinationError) in
            try await node.register(NodeID(8), at: registration(8))
        }
        // Its registration ended with its session.
        #expect(try await observer.liveNodes().isEmpty)
        // A watch on a closed coordinator ends at once.
        var iterator = node.watchLiveNodes().makeAsyncIterator()
        #expect(await iterator.next() == nil)
    }
}
