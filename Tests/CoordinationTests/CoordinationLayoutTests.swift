import Testing
@testable import Coordination
import MOMCore

@Suite struct CoordinationLayoutTests {
    @Test func pathsFollowTheDocumentedLayout() throws {
        let layout = try CoordinationLayout(root: "/clusters/east/")
        #expect(layout.root == "/clusters/east")
        #expect(layout.path(of: NodeID(7)) == "/clusters/east/nodes/7")
        #expect(layout.path(of: GroupID(12)) == "/clusters/east/groups/12")
        #expect(layout.persistentPaths == [
            "/clusters", "/clusters/east", "/clusters/east/nodes", "/clusters/east/groups",
        ])
    }

    @Test func watchPathsMapToTheirSubject() throws {
        let layout = try CoordinationLayout(root: "/mom")
        #expect(layout.subject(ofPath: "/mom/nodes") == .nodes)
        #expect(layout.subject(ofPath: "/mom/nodes/3") == .nodes)
        #expect(layout.subject(ofPath: "/mom/groups/3") == .group(GroupID(3)))
        #expect(layout.subject(ofPath: "/mom/groups/03") == nil)
        #expect(layout.subject(ofPath: "/mom/nodesx/3") == nil)
        #expect(layout.subject(ofPath: "/other/groups/3") == nil)
    }

    @Test func childNamesAreCanonicalDecimal() {
        #expect(CoordinationLayout.identifier(fromChild: "0") == 0)
        #expect(CoordinationLayout.identifier(fromChild: "18446744073709551615") == UInt64.max)
        for name in ["", "01", "+1", "-1", "1a", "18446744073709551616", " 1"] {
            #expect(CoordinationLayout.identifier(fromChild: name) == nil, "\(name)")
        }
    }

    @Test func recordsAreTheDocumentedJSON() throws {
        let registration = NodeRegistration(http: "127.0.0.1:8080", raft: "127.0.0.1:9090")
        #expect(String(decoding: CoordinationCodec.encode(registration), as: UTF8.self)
            == #"{"http":"127.0.0.1:8080","raft":"127.0.0.1:9090"}"#)
        let membership = GroupMembership(replicas: [NodeID(1), NodeID(2), NodeID(3)], learners: [NodeID(4)], epoch: 3)
        #expect(String(decoding: CoordinationCodec.encode(membership), as: UTF8.self)
            == #"{"epoch":3,"learners":[4],"replicas":[1,2,3]}"#)
        #expect(try CoordinationCodec.decodeRegistration(CoordinationCodec.encode(registration), path: "p") == registration)
        #expect(try CoordinationCodec.decodeMembership(
            CoordinationCodec.encode(membership), path: "p", limits: .standard) == membership)
    }

    @Test func badRecordsAreInvalidData() {
        let records = [
            #"{"replicas":[1],"learners":[]}"#,           // no epoch
            #"{"replicas":[],"learners":[],"epoch":1}"#,  // no voter
            #"{"replicas":[1,1],"learners":[],"epoch":1}"#,
            #"{"replicas":[-1],"learners":[],"epoch":1}"#,
            "not json",
        ]
        for record in records {
            #expect(throws: CoordinationError.self, "\(record)") {
                try CoordinationCodec.decodeMembership(Array(record.utf8), path: "/mom/groups/1", limits: .standard)
            }
        }
        #expect(throws: CoordinationError.self) {
            try CoordinationCodec.decodeRegistration(Array(#"{"http":"","raft":"x:1"}"#.utf8), path: "/mom/nodes/1")
        }
    }
}

@Suite struct LogRateLimiterTests {
    @Test func admitsABurstPerSecondAndReportsTheRest() {
        var limiter = LogRateLimiter(linesPerSecondMax: 2)
        let first = (0..<5).map { _ in limiter.admit(atSecond: 10) }
        #expect(first.map(\.admit) == [true, true, false, false, false])
        #expect(first.allSatisfy { $0.suppressedBefore == 0 })
        let next = limiter.admit(atSecond: 11)
        #expect(next.admit)
        #expect(next.suppressedBefore == 3)
        #expect(limiter.admit(atSecond: 11).suppressedBefore == 0)
        #expect(limiter.admit(atSecond: 12).suppressedBefore == 0)
    }
}
