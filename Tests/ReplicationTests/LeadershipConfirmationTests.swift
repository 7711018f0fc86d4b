import MOMCore
import Raft
import Testing
@testable import Replication

/// `confirmLeadership`: a ReadIndex round that only a leader a majority still follows passes.
@Suite struct LeadershipConfirmationTests {
    typealias Confirmed = Result<LeadershipConfirmation, ReplicationError>

    static func confirm(_ group: GroupID, on node: ReplicationHostTests.Node, timeoutMilliseconds: UInt64 = 5_000) async -> Confirmed? {
        let outcome = Outcome<Confirmed>()
        node.host.confirmLeadership(group, timeoutMilliseconds: timeoutMilliseconds) { outcome.set($0) }
        return await outcome.wait()
    }

    /// A three-node group with a leader every node knows, and an entry committed by it.
    static func startGroup(_ group: GroupID, links: LocalLinks) async throws -> (cluster: [ReplicationHostTests.Node], leader: ReplicationHostTests.Node) {
        let cluster = try await ReplicationHostTests.startCluster(nodes: 3, groups: [group], links: links)
        #expect(await eventually { ReplicationHostTests.leader(of: group, in: cluster) != nil })
        let leader = try #require(ReplicationHostTests.leader(of: group, in: cluster))
        #expect(await eventually { cluster.allSatisfy { $0.host.status(of: group)?.leader == leader.host.nodeID } })
        let written = await ReplicationHostTests.propose([1], to: group, on: leader)
        #expect((try? written?.get()) != nil, "\(String(describing: written))")
        return (cluster, leader)
    }

    @Test func aLeaderAMajorityFollowsIsConfirmedAndAFollowerIsNot() async throws {
        let group = GroupID(21)
        let (cluster, leader) = try await Self.startGroup(group, links: LocalLinks())
        defer { cluster.forEach { $0.host.stop() } }
        let status = try #require(leader.host.status(of: group))

        let confirmed = try #require(await Self.confirm(group, on: leader))
        let confirmation = try confirmed.get()
        #expect(confirmation.term == status.term)
        #expect(confirmation.readIndex >= status.commit, "the read index is the commit index when the round started")

        for follower in cluster where follower.host.nodeID != leader.host.nodeID {
            #expect(await Self.confirm(group, on: follower) == .failure(.notLeader(leader: leader.host.nodeID)))
        }
        #expect(await Self.confirm(GroupID(99), on: leader) == .failure(.unknownGroup(GroupID(99))))
    }

    /// Cut off from both followers, the leader still believes it leads, but no majority
    /// acknowledges its heartbeat: a round fails at its deadline, or, given longer, when
    /// check-quorum ends the leader's term (after ten ticks or more; the short deadline passes
    /// at the first loop pass), and never succeeds.
    @Test func anIsolatedLeaderIsNotConfirmed() async throws {
        let group = GroupID(22)
        let links = LocalLinks()
        let (cluster, leader) = try await Self.startGroup(group, links: links)
        defer { cluster.forEach { $0.host.stop() } }

        links.isolate(leader.host.nodeID)
        let untilDeposed = Outcome<Confirmed>()
        let brief = Outcome<Confirmed>()
        leader.host.confirmLeadership(group, timeoutMilliseconds: 60_000) { untilDeposed.set($0) }
        leader.host.confirmLeadership(group, timeoutMilliseconds: 1) { brief.set($0) }
        #expect(await brief.wait() == .failure(.timedOut))
        #expect(await untilDeposed.wait() == .failure(.notLeader(leader: nil)))

        links.heal(leader.host.nodeID)
        #expect(await eventually { ReplicationHostTests.leader(of: group, in: cluster) != nil })
        let healed = try #require(ReplicationHostTests.leader(of: group, in: cluster))
        #expect(await eventually { cluster.allSatisfy { $0.host.status(of: group)?.leader == healed.host.nodeID } })
        #expect((try? await Self.confirm(group, on: healed)?.get()) != nil, "healed, the group's leader is confirmed again")
    }

    /// A round still waiting (the leader is cut off) fails when its group is removed, and when
    /// the host stops: no caller waits for an answer that cannot come.
    @Test func pendingRoundsFailOnGroupRemovalAndOnStop() async throws {
        let groups = [GroupID(23), GroupID(24)]
        let links = LocalLinks()
        let cluster = try await ReplicationHostTests.startCluster(nodes: 3, groups: groups, links: links)
        // Stopping twice is harmless: the test stops node 1 itself.
        defer { cluster.forEach { $0.host.stop() } }
        let node = cluster[0]
        for group in groups where node.host.status(of: group)?.role != .leader {
            #expect(await eventually { ReplicationHostTests.leader(of: group, in: cluster) != nil })
            try #require(ReplicationHostTests.leader(of: group, in: cluster)).host.transferLeadership(group, to: node.host.nodeID)
        }
        #expect(await eventually { groups.allSatisfy { node.host.status(of: $0)?.role == .leader } })
        for group in groups {
            // The term's first entry committed, so Raft starts each heartbeat round at once.
            #expect((try? await ReplicationHostTests.propose([2], to: group, on: node)?.get()) != nil)
        }

        links.isolate(node.host.nodeID)
        let removed = Outcome<Confirmed>()
        let stopped = Outcome<Confirmed>()
        node.host.confirmLeadership(groups[0], timeoutMilliseconds: 60_000) { removed.set($0) }
        node.host.confirmLeadership(groups[1], timeoutMilliseconds: 60_000) { stopped.set($0) }
        node.host.removeGroup(groups[0])
        #expect(await removed.wait() == .failure(.unknownGroup(groups[0])))
        node.host.stop()
        let outcome = await stopped.wait()
        switch outcome {
        // Check-quorum may depose the cut-off leader before the stop reaches the loop.
        case .failure(.stopped)?, .failure(.notLeader)?: break
        default: Issue.record("a pending round outlived the host: \(String(describing: outcome))")
        }
    }

    /// A lone voter is its own majority: confirmed without any message.
    @Test func aSingleVoterIsConfirmedAtOnce() async throws {
        let group = GroupID(25)
        let cluster = try await ReplicationHostTests.startCluster(nodes: 1, groups: [group], links: LocalLinks())
        defer { cluster.forEach { $0.host.stop() } }
        #expect(await eventually { cluster[0].host.status(of: group)?.role == .leader })
        let confirmed = try #require(await Self.confirm(group, on: cluster[0]))
        #expect(try confirmed.get().term == cluster[0].host.status(of: group)?.term)
    }
}
