import MOMCore
import Raft
import SystemIO
import Testing
@testable import Replication

/// The loop asks only the groups something happened to for a Ready (ReplicationHost+Registry);
/// a tick asks them all. With the first tick an hour away, everything here must be driven by
/// the touches alone: a path that forgot its touch would wait for that tick and time out.
@Suite struct WithoutTicksTests {
    /// Started hosts on in-process links whose first tick is an hour away.
    static func startHosts(_ voters: Set<NodeID>) -> [NodeID: ReplicationHost] {
        let links = LocalLinks()
        var settings = ReplicationHost.Settings()
        settings.tickMilliseconds = 3_600_000
        var hosts: [NodeID: ReplicationHost] = [:]
        for id in voters.sorted() {
            let host = ReplicationHost(nodeID: id, link: links.link(for: id), clock: SystemClock(), randomSeed: id.rawValue, settings: settings)
            links.register(host)
            host.start()
            hosts[id] = host
        }
        return hosts
    }

    /// The preferred leader creates the group first and campaigns at once; its vote requests
    /// reach peers that do not have the group yet. They keep them (EarlyMessages) and answer
    /// when they add it, so the election needs no timeout: with no tick, it is the only way.
    @Test func votesThatArriveBeforeTheGroupAreAnsweredWhenItIsAdded() async throws {
        let group = GroupID(9)
        let voters = Set([NodeID(1), NodeID(2), NodeID(3)])
        let hosts = Self.startHosts(voters)
        defer { hosts.values.forEach { $0.stop() } }
        for id in voters.sorted() {
            let added = Outcome<Bool>()
            hosts[id]!.addGroup(group, log: MemoryGroupLog(), stateMachine: RecordingStateMachine(), bootstrap: Configuration(voters: voters), campaign: id == NodeID(1)) {
                added.set((try? $0.get()) != nil)
            }
            #expect(await added.wait() == true)
            if id == NodeID(1) {
                // Let the vote requests reach nodes 2 and 3 before they have the group.
                try await Task.sleep(for: .milliseconds(50))
                #expect(hosts[NodeID(1)]!.status(of: group)?.role != .leader)
            }
        }
        #expect(await eventually { hosts[NodeID(1)]!.status(of: group)?.role == .leader }, "elected by the kept vote requests")
    }

    @Test func electionProposalsAndTransferNeedNoTick() async throws {
        let group = GroupID(7)
        let voters = Set([NodeID(1), NodeID(2), NodeID(3)])
        let hosts = Self.startHosts(voters)
        var machines: [NodeID: RecordingStateMachine] = [:]
        defer { hosts.values.forEach { $0.stop() } }
        for id in voters.sorted() {
            let machine = RecordingStateMachine()
            machines[id] = machine
            let added = Outcome<Bool>()
            // Node 1 campaigns at once (a new partition's preferred leader): votes are messages.
            hosts[id]!.addGroup(group, log: MemoryGroupLog(), stateMachine: machine, bootstrap: Configuration(voters: voters), campaign: id == NodeID(1)) {
                added.set((try? $0.get()) != nil)
            }
            #expect(await added.wait() == true)
        }
        #expect(await eventually { hosts[NodeID(1)]!.status(of: group)?.role == .leader }, "elected by the campaign's messages")

        for round in 0..<5 {
            let outcome = Outcome<Result<ClosedRange<LogIndex>, ReplicationError>>()
            hosts[NodeID(1)]!.propose(group, entries: [Array("entry \(round)".utf8)]) { outcome.set($0) }
            let result = try #require(await outcome.wait(), "proposal \(round) answered")
            #expect((try? result.get()) != nil, "proposal \(round) committed: \(result)")
        }
        // The leader tells followers the new commit in its next append, not in a heartbeat.
        #expect(await eventually { machines[NodeID(2)]!.payloads.count >= 4 && machines[NodeID(3)]!.payloads.count >= 4 })

        hosts[NodeID(1)]!.transferLeadership(group, to: NodeID(3))
        #expect(await eventually { hosts[NodeID(3)]!.status(of: group)?.role == .leader }, "the transfer completes by messages alone")
        let outcome = Outcome<Result<ClosedRange<LogIndex>, ReplicationError>>()
        hosts[NodeID(3)]!.propose(group, entries: [Array("after transfer".utf8)]) { outcome.set($0) }
        let result = try #require(await outcome.wait())
        #expect((try? result.get()) != nil, "the new leader commits: \(result)")
    }
}
