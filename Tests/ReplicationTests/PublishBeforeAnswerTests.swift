import MOMCore
import Raft
import SystemIO
import Testing
@testable import Replication

/// A proposal's completion runs only once the group's published status shows the entry
/// applied: a caller answered for it may read the status at once (the catalog's freshness
/// check does), and must not find it behind.
@Suite struct PublishBeforeAnswerTests {
    @Test func theStatusShowsTheEntryAppliedWhenTheProposerHearsOfIt() async throws {
        let group = GroupID(3)
        let host = WithoutTicksTests.startHosts([NodeID(1)])[NodeID(1)]!
        defer { host.stop() }
        let added = Outcome<Bool>()
        host.addGroup(group, log: MemoryGroupLog(), stateMachine: RecordingStateMachine(), bootstrap: Configuration(voters: [NodeID(1)])) {
            added.set((try? $0.get()) != nil)
        }
        #expect(await added.wait() == true)
        #expect(await eventually { host.status(of: group)?.role == .leader })
        for round in 0..<20 {
            let seen = Outcome<(LogIndex?, LogIndex?)>()
            host.propose(group, entries: [Array("entry \(round)".utf8)]) { result in
                // On the loop thread, at the moment the proposer hears of the commit.
                seen.set(((try? result.get())?.upperBound, host.status(of: group)?.applied))
            }
            let (last, applied) = try #require(await seen.wait())
            let index = try #require(last, "proposal \(round) committed")
            #expect(applied.map { $0 >= index } == true, "published applied \(String(describing: applied)) behind \(index)")
        }
    }
}
