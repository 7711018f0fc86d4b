import MOMCore
import Raft
import SystemIO
import Testing
@testable import Replication

/// Quiescence on real hosts (ReplicationHost+Quiescence, PeerLiveness): idle groups stop
/// ticking, proposals still commit, and a leader node that goes silent is replaced although its
/// followers' election clocks stood still.
@Suite struct QuiescedHostTests {
    typealias Cluster = ReplicationHostTests

    /// Three quiescing hosts with `groups` groups; returns once every group has a leader and is
    /// quiesced on every node (or after recording why not). The caller stops the hosts.
    static func startQuiesced(groups: [GroupID], links: LocalLinks) async throws -> [ReplicationHostTests.Node] {
        let cluster = try await startQuiescing(groups: groups, links: links)
        for group in groups { #expect(await eventually { Cluster.leader(of: group, in: cluster) != nil }) }
        #expect(await eventually { Self.allQuiesced(cluster, groups: groups.count) }, "every group quiesces on every node")
        return cluster
    }

    static func startQuiescing(groups: [GroupID], links: LocalLinks) async throws -> [ReplicationHostTests.Node] {
        try await Cluster.startCluster(nodes: 3, groups: groups, links: links) { _, settings in
            settings.quiesce = true
            settings.heartbeatTicks = 2
            // Longer ticks than the other host tests: a loop thread starved for an election
            // timeout on a loaded machine would look like a dead node and wake groups.
            settings.tickMilliseconds = 40
        }
    }

    static func allQuiesced(_ cluster: [ReplicationHostTests.Node], groups: Int) -> Bool {
        cluster.allSatisfy { $0.host.quiescedGroupCount == groups }
    }

    @Test func idleGroupsQuiesceAndStillCommitProposals() async throws {
        let links = LocalLinks()
        let groups = (1...6).map { GroupID(UInt64($0)) }
        let cluster = try await Self.startQuiesced(groups: groups, links: links)
        defer { cluster.forEach { $0.host.stop() } }
        // Three election timeouts: only keep-alives travel, and no group wakes.
        let before = links.delivered
        try await Task.sleep(nanoseconds: 1_200_000_000)
        let after = links.delivered
        #expect(after.raft == before.raft, "quiesced groups send nothing (\(after.raft - before.raft) Raft payloads)")
        #expect(after.keepAlives > before.keepAlives, "the nodes keep each other alive")
        #expect(Self.allQuiesced(cluster, groups: groups.count))

        for group in groups {
            try await Cluster.commitEverywhere(Array("after quiescence \(group)".utf8), to: group, in: cluster)
        }
        #expect(await eventually { Self.allQuiesced(cluster, groups: groups.count) }, "and quiesces again")
    }

    @Test func quiescedFollowersReplaceASilentLeaderNode() async throws {
        let links = LocalLinks()
        let groups = (1...4).map { GroupID(UInt64($0)) }
        let cluster = try await Self.startQuiesced(groups: groups, links: links)
        defer { cluster.forEach { $0.host.stop() } }
        let group = groups[0]
        let oldLeader = try #require(Cluster.leader(of: group, in: cluster))
        let oldTerm = try #require(oldLeader.host.status(of: group)?.term)

        links.isolate(oldLeader.host.nodeID)
        let others = cluster.filter { $0.host.nodeID != oldLeader.host.nodeID }
        #expect(await eventually { others.contains { $0.host.status(of: group)?.role == .leader } },
                "the followers, woken by node liveness, elect a new leader")
        let newLeader = try #require(others.first { $0.host.status(of: group)?.role == .leader })
        #expect((newLeader.host.status(of: group)?.term ?? .zero) > oldTerm)
        let payload = Array("new leader".utf8)
        let result = try #require(await Cluster.propose(payload, to: group, on: newLeader))
        #expect((try? result.get()) != nil, "the new leader commits: \(result)")
        #expect(await eventually { oldLeader.host.status(of: group)?.role != .leader },
                "the cut-off leader, woken by node liveness, steps down")
        links.heal(oldLeader.host.nodeID)
        #expect(await eventually { oldLeader.machines[group]!.payloads == [payload] }, "and catches up once healed")
    }

    /// The leader's node stays up, so node liveness never reports it: its group, stopped there
    /// by a storage error, must ask its quiesced followers to elect.
    @Test func aLeaderStoppedByItsDiskHandsTheGroupToItsQuiescedFollowers() async throws {
        let links = LocalLinks()
        let group = GroupID(7)
        let voters: Set<NodeID> = [NodeID(1), NodeID(2), NodeID(3)]
        let failing = FailingGroupLog()
        var hosts: [ReplicationHost] = []
        defer { hosts.forEach { $0.stop() } }
        for id in voters.sorted() {
            var settings = ReplicationHost.Settings()
            settings.tickMilliseconds = 40
            settings.heartbeatTicks = 2
            settings.quiesce = true
            let host = ReplicationHost(nodeID: id, link: links.link(for: id), clock: SystemClock(), randomSeed: id.rawValue, settings: settings)
            links.register(host)
            host.start()
            hosts.append(host)
            // A healthy group beside it keeps node 1 a peer of the others, so its keep-alives go on.
            let log: any GroupLog = id == NodeID(1) ? failing : MemoryGroupLog()
            for (hosted, log) in [(group, log), (GroupID(8), MemoryGroupLog() as any GroupLog)] {
                let added = Outcome<Bool>()
                host.addGroup(hosted, log: log, stateMachine: RecordingStateMachine(),
                              bootstrap: Configuration(voters: voters), campaign: id == NodeID(1)) { added.set((try? $0.get()) != nil) }
                #expect(await added.wait() == true)
            }
        }
        #expect(await eventually { hosts[0].status(of: group)?.role == .leader })
        #expect(await eventually { hosts.allSatisfy { $0.quiescedGroupCount == 2 } })
        failing.startFailing()
        let outcome = Outcome<Result<ClosedRange<LogIndex>, ReplicationError>>()
        hosts[0].propose(group, entries: [[1]]) { outcome.set($0) }
        guard case .failure(.storageFailed)? = await outcome.wait() else {
            Issue.record("the proposal should fail with the disk")
            return
        }
        #expect(await eventually { hosts[1...].contains { $0.status(of: group)?.role == .leader } },
                "a follower leads although the old leader's node is still up")
    }

    @Test func peerLivenessCountsSilenceFromTheLastWordOrFromTracking() {
        var liveness = PeerLiveness(silentTicksMax: 10)
        liveness.track([NodeID(2), NodeID(3)], tick: 5)
        #expect(liveness.silentPeers(at: 14).isEmpty)
        #expect(liveness.silentPeers(at: 15) == [NodeID(2), NodeID(3)], "never heard: silent since tracked")
        liveness.heard(NodeID(2), tick: 12)
        #expect(liveness.silentPeers(at: 21) == [NodeID(3)])
        #expect(liveness.silentPeers(at: 22) == [NodeID(2), NodeID(3)])
        liveness.heard(NodeID(9), tick: 22)
        #expect(liveness.peers == [NodeID(2), NodeID(3)], "a node that is not a peer is not tracked")
        liveness.track([NodeID(3), NodeID(4)], tick: 30)
        #expect(liveness.peers == [NodeID(3), NodeID(4)])
        #expect(liveness.silentPeers(at: 30) == [NodeID(3)], "a kept peer keeps its record; a new one starts heard")
    }
}
