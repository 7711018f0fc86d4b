import Foundation
import HTTPServer
import Testing

/// Replacing a `__meta` voter (docs/operations.md §4): an original broker leaves the catalog's
/// quorum, is drained and stopped for good, with real momd processes and a real ZooKeeper.
@Suite("__meta voters over REST", .serialized, .enabled(if: IntegrationEnvironment.enabled, IntegrationEnvironment.skipReason))
struct ClusterMetaVotersTests {
    typealias Wait = ClusterMembershipTests

    static func meta(_ node: ClusterNode) async -> JSONValue? { await Wait.hostedGroups(node)?[0] }
    static func learners(_ group: JSONValue?) -> [UInt64] { group?["learners"]?.arrayValue?.compactMap(\.uint64Value).sorted() ?? [] }
    static func target(_ group: JSONValue?) -> [UInt64] { group?["target"]?.arrayValue?.compactMap(\.uint64Value) ?? [] }
    static func reassignMeta(_ voters: [Int64], via node: ClusterNode) async throws -> Reply {
        try await node.client.send(.post, "/v1/cluster/meta/reassign", json: .object([("replicas", .array(voters.map { .integer($0) }))]))
    }

    /// Meta voters {1,2,3} + node 4: the `__meta` leader L is replaced by 4 (it hands
    /// leadership over before it leaves). L restarts with its old `--meta-replicas` and stays
    /// out; it is drained, stopped for good and drops out of `__meta` altogether. Then one of
    /// the two others is killed too: the last original and 4 are a majority of the new voters
    /// but would not be one of {1,2,3}, so creating a topic then proves L no longer counts.
    @Test func anOriginalMetaVoterIsReplaced() async throws {
        try await TestCluster.run(size: 4, metaReplicas: 3, started: 3) { cluster in
            let topic = "kept"
            try await Admin.createTopic(topic, partitions: 1, via: cluster.node(1))
            _ = try await Admin.waitForLeaders(topic, partitions: 1, askingNode: cluster.node(2))
            try cluster.start(4)
            try await cluster.waitHealthy(4, timeoutMilliseconds: 30_000)
            try await Wait.waitFor("node 4 follows __meta as a learner") { Self.learners(await Self.meta(cluster.node(1))) == [4] }
            #expect(Self.target(await Self.meta(cluster.node(1))) == [1, 2, 3], "no target set: the formation voters")

            for bad in [[1, 2, 9], [], [1, 1, 4]] as [[Int64]] {
                let refused = try await Self.reassignMeta(bad, via: cluster.node(2))
                #expect(refused.status == 400 && refused.errorCode == "bad_request", "\(bad): \(refused.text)")
            }
            let leaving = try #require(await Self.meta(cluster.node(1))?["leader"]?.uint64Value.map { Int($0) })
            let kept = [1, 2, 3].filter { $0 != leaving }
            let voters = (kept + [4]).map { UInt64($0) }
            let accepted = try await Self.reassignMeta(voters.map { Int64($0) }, via: cluster.node(kept[0]))
            #expect(accepted.status == 202, "meta reassign: \(accepted.text)")
            #expect(accepted.json?["previous_replicas"]?.arrayValue?.compactMap(\.uint64Value).sorted() == [1, 2, 3])
            for id in kept + [4] {
                try await Wait.waitFor("node \(id) sees __meta voters \(voters)") {
                    let meta = await Self.meta(cluster.node(id))
                    return Wait.voters(meta) == voters && Self.target(meta) == voters && meta?["leader"]?.uint64Value != UInt64(leaving)
                }
            }
            // Still live, node L keeps following the catalog as a learner.
            try await Wait.waitFor("node \(leaving) is a __meta learner") {
                Self.learners(await Self.meta(cluster.node(4))).contains(UInt64(leaving))
            }

            // Restarted with its original --meta-replicas (1,2,3), node L does not bootstrap
            // __meta again: its log holds the configuration, in which it does not vote.
            await cluster.kill(leaving)
            try cluster.start(leaving)
            try await cluster.waitHealthy(leaving, timeoutMilliseconds: 30_000)
            try await Wait.waitFor("restarted node \(leaving) follows __meta without voting") {
                let meta = await Self.meta(cluster.node(leaving))
                return Wait.voters(meta) == voters && Self.learners(meta).contains(UInt64(leaving))
                    && meta?["leader"]?.uint64Value != UInt64(leaving)
            }

            // Drain node L (what `momctl node drain L` asks for), then stop it for good.
            let drained = try await cluster.node(4).client.send(
                .post, "/v1/topics/\(topic)/partitions/0/reassign", json: .object([("replicas", .array(voters.map { .integer(Int64($0)) }))]))
            #expect(drained.status == 202, "drain: \(drained.text)")
            let group = try #require(drained.json?["group"]?.uint64Value)
            try await Wait.waitFor("node \(leaving) drops its partition replica") {
                guard let hosted = await Wait.hostedGroups(cluster.node(leaving)) else { return false }
                return hosted[group] == nil
            }
            await cluster.stop(leaving)
            try await Wait.waitFor("stopped node \(leaving) leaves __meta", timeoutMilliseconds: 90_000) {
                let meta = await Self.meta(cluster.node(kept[0]))
                return meta != nil && !Self.learners(meta).contains(UInt64(leaving)) && !Wait.voters(meta).contains(UInt64(leaving))
            }

            // {kept[1], 4} of {kept[0], kept[1], 4}: the catalog still commits.
            await cluster.kill(kept[0])
            try await Admin.createTopic("after", partitions: 1, replicationFactor: 2, via: cluster.node(kept[1]), timeoutMilliseconds: 60_000)
            let listed = try await cluster.node(4).client.send(.get, "/v1/topics/after")
            #expect(listed.status == 200, "the new topic is in the catalog: \(listed.text)")
        }
    }
}
