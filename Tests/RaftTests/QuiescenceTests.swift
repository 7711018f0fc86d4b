import MOMCore
import Testing
@testable import Raft

/// Quiescence (RaftCore+Quiescence): idle groups stop heartbeating, any input wakes them, and a
/// reported dead peer wakes those quiesced with it.
@Suite struct QuiescenceTests {
    /// Three voters over memory storage, hosted as a server hosts them (persist, send, apply,
    /// advance), with a mailbox whose links can be cut.
    private final class Trio {
        var storages: [NodeID: MemoryStorage] = [:]
        var nodes: [NodeID: RawNode] = [:]
        var mailbox: [Message] = []
        /// Nodes whose messages, in and out, are dropped.
        var cut: Set<NodeID> = []
        /// Messages to drop once, by (kind, recipient).
        var dropOnce: [(MessageKind, NodeID)] = []
        /// Every message sent, for counting.
        var sent: [Message] = []
        let ids = [NodeID(1), NodeID(2), NodeID(3)]

        init(quiesce: Bool = true, seed: UInt64 = 0) throws {
            let voters = Set(ids)
            for id in ids {
                let snapshot = Snapshot(metadata: SnapshotMetadata(index: LogIndex(1), term: Term(1), configuration: Configuration(voters: voters)))
                let storage = MemoryStorage(snapshot: snapshot)
                var config = RaftConfig(id: id)
                config.applied = LogIndex(1)
                config.heartbeatTicks = 2
                config.quiesce = quiesce
                storages[id] = storage
                nodes[id] = try RawNode(config: config, storage: storage, random: SeededRandom(seed: id.rawValue &+ seed &* 1_000))
            }
        }

        func node(_ raw: UInt64) -> RawNode { nodes[NodeID(raw)]! }

        /// Readies handled and messages delivered until nothing moves (bounded).
        func settle() throws {
            for _ in 0..<1_000 {
                var moved = false
                for id in ids where nodes[id]!.hasReady() {
                    moved = true
                    let node = nodes[id]!
                    let ready = node.ready()
                    if let snapshot = ready.snapshot { try storages[id]!.applySnapshot(snapshot) }
                    try storages[id]!.append(ready.entries)
                    if let hardState = ready.hardState { storages[id]!.setHardState(hardState) }
                    for message in ready.messages { send(message) }
                    node.advance(ready)
                }
                let batch = mailbox
                mailbox = []
                for message in batch {
                    moved = true
                    try? nodes[message.to]!.step(message)
                }
                if !moved { return }
            }
            Issue.record("the trio did not settle")
        }

        private func send(_ message: Message) {
            sent.append(message)
            if cut.contains(message.from) || cut.contains(message.to) { return }
            if let position = dropOnce.firstIndex(where: { $0.0 == message.kind && $0.1 == message.to }) {
                dropOnce.remove(at: position)
                return
            }
            mailbox.append(message)
        }

        /// `count` ticks of every node not cut off, settling after each.
        func tick(_ count: Int, alsoCut: Bool = false) throws {
            for _ in 0..<count {
                for id in ids where alsoCut || !cut.contains(id) { nodes[id]!.tick() }
                try settle()
            }
        }

        var leaders: [NodeID] { ids.filter { nodes[$0]!.basicStatus.role == .leader } }
        var allQuiesced: Bool { ids.allSatisfy { nodes[$0]!.isQuiesced } }

        /// Node 1 elected and the trio idle until quiesced (bounded).
        func electOneAndQuiesce() throws {
            try node(1).campaign()
            try settle()
            #expect(leaders == [NodeID(1)])
            for _ in 0..<30 where !allQuiesced { try tick(1) }
            #expect(allQuiesced, "an idle trio quiesces within a check-quorum round and a heartbeat")
        }
    }

    @Test func anIdleGroupQuiescesAndStaysQuiet() throws {
        let trio = try Trio()
        try trio.electOneAndQuiesce()
        let term = trio.node(1).status.hardState.term
        let sentBefore = trio.sent.count
        try trio.tick(200)
        #expect(trio.sent.count == sentBefore, "a quiesced group sends nothing: no heartbeats, no campaigns")
        #expect(trio.leaders == [NodeID(1)])
        #expect(trio.ids.allSatisfy { trio.nodes[$0]!.status.hardState.term == term })
    }

    @Test func withoutTheOptionNothingQuiesces() throws {
        let trio = try Trio(quiesce: false)
        try trio.node(1).campaign()
        try trio.settle()
        try trio.tick(40)
        #expect(!trio.ids.contains { trio.nodes[$0]!.isQuiesced })
        let sentBefore = trio.sent.count
        try trio.tick(10)
        #expect(trio.sent.count > sentBefore, "heartbeats go on")
    }

    @Test func aProposalWakesTheGroupAndCommitsEverywhere() throws {
        let trio = try Trio()
        try trio.electOneAndQuiesce()
        try trio.node(1).propose(Array("hello".utf8))
        #expect(!trio.node(1).isQuiesced)
        try trio.settle()
        for id in trio.ids {
            #expect(trio.nodes[id]!.status.hardState.commit == trio.node(1).status.lastIndex, "node \(id.rawValue) learnt the commit")
        }
        for _ in 0..<30 where !trio.allQuiesced { try trio.tick(1) }
        #expect(trio.allQuiesced, "idle again, the trio quiesces again")
        #expect(trio.ids.allSatisfy { trio.nodes[$0]!.status.applied == trio.node(1).status.lastIndex })
    }

    @Test func aLaggingFollowerKeepsTheLeaderAwake() throws {
        let trio = try Trio()
        try trio.node(1).campaign()
        try trio.settle()
        trio.cut = [NodeID(3)]
        try trio.node(1).propose(Array("a".utf8))
        try trio.settle()
        let sentBefore = trio.sent.count
        try trio.tick(40)
        #expect(!trio.node(1).isQuiesced, "node 3 does not hold the log: no quiescence")
        #expect(trio.sent.count > sentBefore, "the leader goes on heartbeating and probing node 3")
        trio.cut = []
        try trio.tick(30)
        #expect(trio.allQuiesced, "once node 3 caught up, the group quiesces")
        #expect(trio.node(3).status.hardState.commit == trio.node(1).status.lastIndex)
    }

    @Test func aReportedDeadLeaderIsReplaced() throws {
        let trio = try Trio()
        try trio.electOneAndQuiesce()
        let term = trio.node(1).status.hardState.term
        trio.cut = [NodeID(1)]
        try trio.tick(100)
        #expect(trio.node(2).isQuiesced && trio.node(3).isQuiesced, "without liveness, quiesced followers wait")
        trio.node(2).reportPeerDown(NodeID(3))
        #expect(trio.node(2).isQuiesced, "a dead peer that is not the leader wakes nothing")
        trio.node(2).reportPeerDown(NodeID(1))
        trio.node(3).reportPeerDown(NodeID(1))
        var ticks = 0
        // Woken with their leases expired, both campaign within an election timeout; a split
        // vote costs another timeout or two.
        while ticks < 60 && !trio.leaders.contains(where: { $0 != NodeID(1) }) {
            try trio.tick(1)
            ticks += 1
        }
        let newLeaders = trio.leaders.filter { $0 != NodeID(1) }
        #expect(newLeaders.count == 1, "a new leader within six election timeouts (took \(ticks) ticks)")
        #expect(newLeaders.allSatisfy { trio.nodes[$0]!.status.hardState.term > term })
    }

    /// Told its leader's node is silent, a follower grants votes at once but campaigns only
    /// after two ticks or more: the other followers, told a tick later, must not still be in
    /// their leases when its pre-vote arrives.
    @Test func aFollowerToldItsLeaderIsDeadGrantsAtOnceAndCampaignsAfterAMargin() throws {
        for seed in 1...20 as ClosedRange<UInt64> {
            let trio = try Trio(seed: seed)
            try trio.electOneAndQuiesce()
            trio.cut = [NodeID(1)]
            let follower = trio.node(2)
            follower.reportPeerDown(NodeID(1))
            let term = follower.status.hardState.term
            let preVote = Message(kind: .preVote, from: NodeID(3), to: NodeID(2), term: term.next,
                                  logTerm: trio.node(3).status.hardState.term, index: trio.node(3).status.lastIndex)
            try follower.step(preVote)
            let answer = follower.ready()
            #expect(answer.messages.map(\.kind) == [.preVoteResponse] && answer.messages.allSatisfy { !$0.reject },
                    "seed \(seed): the lease ended with the report")
            follower.advance(answer)
            var ticks = 0
            while follower.basicStatus.role == .follower && ticks < 30 {
                follower.tick()
                ticks += 1
            }
            #expect(ticks >= 2 && ticks <= 10, "seed \(seed): campaigned \(ticks) ticks after the report")
        }
    }

    @Test func aFollowerThatMissedTheQuiesceWakesTheLeader() throws {
        let trio = try Trio()
        try trio.node(1).campaign()
        try trio.settle()
        trio.dropOnce = [(.quiesce, NodeID(3))]
        for _ in 0..<30 where !trio.node(1).isQuiesced { try trio.tick(1) }
        #expect(trio.node(1).isQuiesced && trio.node(2).isQuiesced)
        #expect(!trio.node(3).isQuiesced, "its quiesce was lost")
        let term = trio.node(1).status.hardState.term
        // Node 3 times out and asks for pre-votes: the message wakes the leader, whose next
        // heartbeat reaches node 3 before any term changes (node 2 still holds its lease).
        try trio.tick(25)
        #expect(trio.leaders == [NodeID(1)])
        #expect(trio.node(3).status.hardState.term == term, "no election: the pre-vote failed")
        for _ in 0..<30 where !trio.allQuiesced { try trio.tick(1) }
        #expect(trio.allQuiesced, "the next quiesce reaches node 3")
    }

    @Test func aCutOffQuiescedLeaderWokenByLivenessStepsDown() throws {
        let trio = try Trio()
        try trio.electOneAndQuiesce()
        trio.cut = [NodeID(1)]
        trio.node(1).reportPeerDown(NodeID(2))
        #expect(!trio.node(1).isQuiesced)
        try trio.tick(25, alsoCut: true)
        #expect(trio.node(1).basicStatus.role != .leader, "check-quorum deposes the cut-off leader")
    }

    @Test func aFollowerMissingEntriesAnswersTheQuiesceInsteadOfGoingQuiet() throws {
        let trio = try Trio()
        try trio.node(1).campaign()
        try trio.settle()
        // A quiesce claiming a log node 2 does not hold (as a confused or stale sender might).
        let status = trio.node(1).status
        let claim = Message(kind: .quiesce, from: NodeID(1), to: NodeID(2), term: status.hardState.term,
                            logTerm: status.hardState.term, index: status.lastIndex.advanced(by: 5), commit: status.hardState.commit)
        try trio.node(2).step(claim)
        #expect(!trio.node(2).isQuiesced)
        let ready = trio.node(2).ready()
        #expect(ready.messages.map(\.kind) == [.heartbeatResponse], "its answer wakes the leader")
        trio.node(2).advance(ready)
    }

    @Test func everyInputWakesAQuiescedLeader() throws {
        for input in 0..<3 {
            let trio = try Trio()
            try trio.electOneAndQuiesce()
            switch input {
            case 0: try trio.node(1).readIndex(context: [1])
            case 1: trio.node(1).transferLeadership(to: NodeID(2))
            default: try trio.node(1).step(Message(kind: .heartbeatResponse, from: NodeID(2), to: NodeID(1), term: trio.node(1).status.hardState.term))
            }
            #expect(!trio.node(1).isQuiesced, "input \(input) wakes the leader")
        }
    }
}
