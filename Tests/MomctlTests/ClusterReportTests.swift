import Foundation
import MOMClient
import Testing
@testable import momctl

@Suite("momctl cluster status report")
struct ClusterReportTests {
    /// Node 1's view: it leads __meta and orders/0 (and sees node 3 far behind); node 3 is not live.
    static let nodeOne = #"""
        {"node_id":1,"nodes":[{"id":1,"http":"127.0.0.1:8001","raft":"127.0.0.1:9001","live":true},
                              {"id":2,"http":"127.0.0.1:8002","raft":"127.0.0.1:9002","live":true}],
         "groups":[{"group":0,"owner":"__meta","role":"leader","leader":1,"term":3,"commit_index":40,"voters":[1,2],"follower_lag":{"2":0}},
                   {"group":1,"owner":"topic:orders/0","role":"leader","leader":1,"term":2,"commit_index":900,"voters":[1,2,3],"follower_lag":{"2":5000,"3":0}},
                   {"group":2,"owner":"topic:orders/1","role":"follower","leader":2,"term":2,"commit_index":10,"voters":[1,2],"follower_lag":{}}],
         "future_field":{"ignored":true}}
        """#
    /// Node 2's view: it leads orders/1; a group without a leader.
    static let nodeTwo = #"""
        {"node_id":2,"nodes":[{"id":1,"http":"127.0.0.1:8001","raft":"127.0.0.1:9001","live":true},
                              {"id":2,"http":"127.0.0.1:8002","raft":"127.0.0.1:9002","live":true}],
         "groups":[{"group":2,"owner":"topic:orders/1","role":"leader","leader":2,"term":2,"commit_index":11,"voters":[1,2],"follower_lag":{"1":1}},
                   {"group":7,"owner":"queue:jobs/0","role":"candidate","leader":null,"term":9,"commit_index":0,"voters":[2]}]}
        """#

    @Test("views parse leniently: numbers or text ids, missing and unknown fields")
    func parsing() throws {
        let view = try ClusterView.parse(Array(Self.nodeOne.utf8))
        #expect(view.nodeID == 1)
        #expect(view.nodes.map(\.id) == [1, 2])
        #expect(view.groups.map(\.group) == ["0", "1", "2"])
        #expect(view.groups[1].followerLag == [2: 5000, 3: 0])
        let minimal = try ClusterView.parse(Array(#"{"nodes":[],"groups":[{"group":"g","leader":null}]}"#.utf8))
        #expect(minimal.groups == [ClusterView.Group(group: "g", owner: "", role: "", leader: nil, term: 0, commitIndex: 0, voters: [], followerLag: [:])])
        #expect(throws: ClusterView.Malformed.self) { try ClusterView.parse(Array("[]".utf8)) }
        let moving = try ClusterView.parse(Array(#"{"nodes":[],"groups":[{"group":0,"voters":[3,1,2],"learners":[4,5],"target":[1,2,4]}]}"#.utf8))
        #expect(moving.groups[0].learners == [4, 5] && moving.groups[0].target == [1, 2, 4])
        #expect(ClusterReport.votersCell(moving.groups[0]) == "3,1,2→1,2,4")
        var settled = moving.groups[0]
        settled.target = [2, 1, 3]
        #expect(ClusterReport.votersCell(settled) == "3,1,2", "a target equal to the voters as a set is not shown")
        #expect(throws: ClusterView.Malformed.self) { try ClusterView.parse(Array(#"{"nodes":[]}"#.utf8)) }
    }

    @Test("merging keeps each group's leader view and finds the under-replicated groups")
    func merging() throws {
        let views = try [Self.nodeOne, Self.nodeTwo].map { try ClusterView.parse(Array($0.utf8)) }
        let report = ClusterReport.build(views: views, unreachable: [:], topics: [], queues: [], lagThreshold: 1_000)
        #expect(report.groups.map(\.group) == ["0", "7", "1", "2"])
        #expect(report.groups.first { $0.group == "2" }?.commitIndex == 11)
        #expect(report.underReplicated == [
            .init(group: "7", owner: "queue:jobs/0", reason: "no leader"),
            .init(group: "1", owner: "topic:orders/0", reason: "voter 3 is not live"),
            .init(group: "1", owner: "topic:orders/0", reason: "voter 2 is 5000 entries behind"),
        ])
        #expect(report.summary == "2 of 2 nodes live, 4 groups, 1 without a leader, 2 under-replicated")
        let relaxed = ClusterReport.build(views: views, unreachable: [:], topics: [], queues: [], lagThreshold: 5_000)
        #expect(relaxed.underReplicated.count == 2)
    }

    @Test("the table shows every section, and the JSON parses")
    func rendering() throws {
        let views = try [Self.nodeOne].map { try ClusterView.parse(Array($0.utf8)) }
        let report = ClusterReport.build(views: views, unreachable: [2: "timeout"], topics: [], queues: [])
        let text = report.render()
        #expect(text.contains("NODES\nID  HTTP            RAFT            LIVE  ANSWERED\n1   127.0.0.1:8001  127.0.0.1:9001  yes   yes\n2   127.0.0.1:8002  127.0.0.1:9002  yes   no: timeout\n"))
        #expect(text.contains("GROUPS\nGROUP  OWNER           LEADER  TERM  COMMIT  VOTERS  MAX-FOLLOWER-LAG\n0      __meta          1       3     40      1,2     0\n"))
        #expect(text.contains("UNDER-REPLICATED\nGROUP  OWNER           REASON\n1      topic:orders/0  voter 3 is not live\n"))
        #expect(text.hasSuffix("2 of 2 nodes live, 3 groups, 0 without a leader, 1 under-replicated\n"))
        let json = try #require(try JSONSerialization.jsonObject(with: Data(JSONOutput.render(report.json()).utf8)) as? [String: Any])
        #expect((json["under_replicated"] as? [[String: Any]])?.count == 2)
        #expect((json["nodes"] as? [[String: Any]])?.last?["unreachable"] as? String == "timeout")
    }
}
