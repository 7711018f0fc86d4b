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

    /// Meta voters {1,2,3} + node 4 → {1,2,4}. Node 3 restarts with its old `--meta-replicas`
    /// and stays out; it is drained, stopped for good and drops out of `__meta` altogether.
    /// Then node 1 is killed too: {2,4} is a majority of {1,2,4} but would not be one of
    /// {1,2,3}, so creating a topic then proves node 3 no longer counts.
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
            let accepted = try await Self.reassignMeta([1, 2, 4], via: cluster.node(3))
            #expect(accepted.status == 202, "meta reassign: \(accepted.text)")
            #expect(accepted.json?["previous_replicas"]?.arrayValue?.compactMap(\.uint64Value).sorted() == [1, 2, 3])
            for id in [1, 2, 4] {
                try await Wait.waitFor("node \(id) sees __meta voters {1,2,4}") {
                    let meta = await Self.meta(cluster.node(id))
                    return Wait.voters(meta) == [1, 2, 4] && Self.target(meta) == [1, 2, 4]
                }
            }
            // Still live, node 3 keeps following the catalog as a learner.
            try await Wait.waitFor("node 3 is a __meta learner") { Self.learners(await Self.meta(cluster.node(4))).contains(3) }

            // Restarted with its original --meta-replicas (1,2,3), node 3 does not bootstrap
            // __meta again: its log holds the configuration, in which it does not vote.
            await cluster.kill(3)
            try cluster.start(3)
            try await cluster.waitHealthy(3, timeoutMilliseconds: 30_000)
            try await Wait.waitFor("restarted node 3 follows __meta without voting") {
                let meta = await Self.meta(cluster.node(3))
                return Wait.voters(meta) == [1, 2, 4] && Self.learners(meta).contains(3) && meta?["leader"]?.uint64Value != 3
            }

            // Drain node 3 (what `momctl node drain 3` asks for), then stop it for good.
            let drained = try await cluster.node(4).client.send(
                .post, "/v1/topics/\(topic)/partitions/0/reassign", json: .object([("replicas", .array([.integer(1), .integer(2), .integer(4)]))]))
            #expect(drained.status == 202, "drain: \(drained.text)")
            let group = try #require(drained.json?["group"]?.uint64Value)
            try await Wait.waitFor("node 3 drops its partition replica") {
                guard let hosted = await Wait.hostedGroups(cluster.node(3)) else { return false }
                return hosted[group] == nil
            }
            await cluster.stop(3)
            try await Wait.waitFor("stopped node 3 leaves __meta", timeoutMilliseconds: 90_000) {
                let meta = await Self.meta(cluster.node(1))
                return meta != nil && !Self.learners(meta).contains(3) && !Wait.voters(meta).contains(3)
            }

            // {2,4} of {1,2,4}: the catalog still commits.
            await cluster.kill(1)
            try await Admin.createTopic("after", partitions: 1, replicationFactor: 2, via: cluster.node(2), timeoutMilliseconds: 60_000)
            let listed = try await cluster.node(4).client.send(.get, "/v1/topics/after")
            #expect(listed.status == 200, "the new topic is in the catalog: \(listed.text)")
        }
    }
}
