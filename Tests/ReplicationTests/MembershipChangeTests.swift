import Glibc
import MOMCore
import Raft
import SystemIO
import Testing
@testable import Replication

/// Single-server membership changes through `ReplicationHost.changeMembership`, on in-process
/// hosts: the steps a partition reassignment is made of.
@Suite struct MembershipChangeTests {
    typealias Node = ReplicationHostTests.Node
    static let group = GroupID(5)
    static let initial = Configuration(voters: [NodeID(1), NodeID(2), NodeID(3)])

    /// A host joining later, with an empty log. It is given the group's initial configuration
    /// (what every original replica bootstrapped with at index 0), never one of its own: the
    /// changes since then reach it through the leader's log.
    static func startLateNode(_ id: NodeID, links: LocalLinks) async -> Node {
        var settings = ReplicationHost.Settings()
        settings.tickMilliseconds = 10
        let host = ReplicationHost(nodeID: id, link: links.link(for: id), clock: SystemClock(), randomSeed: id.rawValue, settings: settings)
        links.register(host)
        host.start()
        let machine = RecordingStateMachine()
        let added = Outcome<Bool>()
        host.addGroup(group, log: MemoryGroupLog(), stateMachine: machine, bootstrap: initial, campaign: true) {
            added.set((try? $0.get()) != nil)
        }
        #expect(await added.wait() == true)
        return Node(host: host, machines: [group: machine])
    }

    static func change(_ change: ConfigChange, on node: Node) async -> Result<Configuration, MembershipChangeError>? {
        let outcome = Outcome<Result<Configuration, MembershipChangeError>>()
        node.host.changeMembership(group, change, timeoutMilliseconds: 10_000) { outcome.set($0) }
        return await outcome.wait()
    }

    static func commit(_ payloads: [[UInt8]], in cluster: [Node]) async throws {
        for payload in payloads {
            #expect(await eventually { ReplicationHostTests.leader(of: group, in: cluster) != nil })
            let leader = try #require(ReplicationHostTests.leader(of: group, in: cluster))
            let result = await ReplicationHostTests.propose(payload, to: group, on: leader)
            #expect((try? result?.get()) != nil, "\(payload) commits: \(String(describing: result))")
        }
    }

    /// Three hosts of the group with one entry committed, and their leader.
    static func committedCluster() async throws -> (links: LocalLinks, cluster: [Node], leader: Node) {
        let links = LocalLinks()
        let cluster = try await ReplicationHostTests.startCluster(nodes: 3, groups: [group], links: links)
        try await commit([[1]], in: cluster)
        let leader = try #require(ReplicationHostTests.leader(of: group, in: cluster))
        return (links, cluster, leader)
    }

    @Test func learnerCatchesUpAndIsPromotedToVoter() async throws {
        let links = LocalLinks()
        let cluster = try await ReplicationHostTests.startCluster(nodes: 3, groups: [Self.group], links: links)
        let before = (0..<20).map { [UInt8(1), UInt8($0)] }
        try await Self.commit(before, in: cluster)
        let late = await Self.startLateNode(NodeID(4), links: links)
        let everyone = cluster + [late]
        defer { everyone.forEach { $0.host.stop() } }
        // Not a member yet: it hears nothing and never campaigns, though asked to.
        #expect(late.host.status(of: Self.group)?.role == .follower)

        let leader = try #require(ReplicationHostTests.leader(of: Self.group, in: cluster))
        let learned = try #require(await Self.change(.addLearner(NodeID(4)), on: leader))
        #expect(learned == .success(Configuration(voters: Self.initial.voters, learners: [NodeID(4)])))
        #expect(await eventually { late.machines[Self.group]!.payloads == before }, "the learner replays the log from index 1")
        #expect(await eventually { late.host.status(of: Self.group)?.learners == [NodeID(4)] },
                "the learner took its configuration from the leader's log")
        #expect(late.host.status(of: Self.group)?.voters == [NodeID(1), NodeID(2), NodeID(3)])
        #expect(await eventually { leader.host.status(of: Self.group)?.followerLag[NodeID(4)] == 0 }, "caught up")

        let promoted = try #require(await Self.change(.addVoter(NodeID(4)), on: leader))
        #expect(promoted == .success(Configuration(voters: [NodeID(1), NodeID(2), NodeID(3), NodeID(4)])))
        #expect(await eventually { late.host.status(of: Self.group)?.voters.contains(NodeID(4)) == true })
        #expect(late.host.status(of: Self.group)?.learners == [])
        let after = [[UInt8(2)]]
        try await Self.commit(after, in: everyone)
        #expect(await eventually { late.machines[Self.group]!.payloads == before + after })
    }

    @Test func removedVoterLeavesAQuorumThatStillCommits() async throws {
        let (links, cluster, leader) = try await Self.committedCluster()
        defer { cluster.forEach { $0.host.stop() } }
        let follower = try #require(cluster.first { $0.host.nodeID != leader.host.nodeID })
        let removed = try #require(await Self.change(.removeNode(follower.host.nodeID), on: leader))
        let remaining = Self.initial.voters.subtracting([follower.host.nodeID])
        #expect(removed == .success(Configuration(voters: remaining)))
        // The removed node is cut off: the two that remain commit on their own.
        links.isolate(follower.host.nodeID)
        try await Self.commit([[2]], in: cluster.filter { $0.host.nodeID != follower.host.nodeID })
        for node in cluster where node.host.nodeID != follower.host.nodeID {
            #expect(await eventually { node.machines[Self.group]!.payloads == [[1], [2]] })
        }
    }

    @Test func removingTheLeaderHandsLeadershipOverFirst() async throws {
        let (_, cluster, leader) = try await Self.committedCluster()
        defer { cluster.forEach { $0.host.stop() } }
        let old = leader.host.nodeID
        let refused = try #require(await Self.change(.removeNode(old), on: leader))
        guard case .failure(.handingOver(let target)) = refused else {
            Issue.record("removing the leader must hand over first, got \(refused)")
            return
        }
        let successor = try #require(target)
        #expect(successor != old)
        #expect(await eventually { ReplicationHostTests.leader(of: Self.group, in: cluster)?.host.nodeID == successor })
        let newLeader = try #require(cluster.first { $0.host.nodeID == successor })
        // A new leader takes a change only once its term's first entry is applied
        // (`changePending` until then, a retry-later answer); a loaded machine can get here first.
        var removed = try #require(await Self.change(.removeNode(old), on: newLeader))
        for _ in 0..<50 where removed == .failure(.changePending) {
            try await Task.sleep(nanoseconds: 100_000_000)
            removed = try #require(await Self.change(.removeNode(old), on: newLeader))
        }
        #expect(removed == .success(Configuration(voters: Self.initial.voters.subtracting([old]))))
        try await Self.commit([[2]], in: cluster.filter { $0.host.nodeID != old })
    }

    @Test func followersAndSecondChangesAreRefused() async throws {
        let (_, cluster, leader) = try await Self.committedCluster()
        defer { cluster.forEach { $0.host.stop() } }
        let follower = try #require(cluster.first { $0.host.nodeID != leader.host.nodeID })
        #expect(await eventually { follower.host.status(of: Self.group)?.leader == leader.host.nodeID })
        let fromFollower = await Self.change(.addLearner(NodeID(7)), on: follower)
        #expect(fromFollower == .failure(.notLeader(leader: leader.host.nodeID)))

        // Two changes in one loop pass: Raft keeps one pending, so the second is refused.
        let first = Outcome<Result<Configuration, MembershipChangeError>>()
        let second = Outcome<Result<Configuration, MembershipChangeError>>()
        _ = leader.host.onLoop { host in
            host.startMembershipChange(Self.group, .addLearner(NodeID(7)), deadline: UInt64.max) { first.set($0) }
            host.startMembershipChange(Self.group, .addLearner(NodeID(8)), deadline: UInt64.max) { second.set($0) }
        }
        #expect(await second.wait() == .failure(.changePending))
        #expect(await first.wait() == .success(Configuration(voters: Self.initial.voters, learners: [NodeID(7)])))
        let invalid = await Self.change(.removeNode(NodeID(9)), on: leader)
        #expect(invalid == .failure(.invalid("node 9 is not a member")))
    }
}
