import Foundation
import Testing

/// `momctl topic|queue reassign`, `momctl node drain` and `momctl cluster meta-reassign` against a real (standalone) momd: the
/// wiring from arguments to the REST route and back. Moves between real nodes are tested in
/// IntegrationTests (ClusterMembershipTests).
@Suite("momctl reassign and drain against a real momd", .serialized)
struct MomctlReassignProcessTests {
    @Test func reassignAndDrainSpeakTheRoute() async throws {
        try await StandaloneBroker.run { broker in
            let login = try await broker.momctl(["login", "--server", broker.server, "--user", "admin", "--password-stdin"],
                                                input: StandaloneBroker.password + "\n")
            try #require(login.status == 0, "\(login.error)")
            #expect(try await broker.momctl(["topic", "create", "orders", "--partitions", "2", "--replication-factor", "1"]).status == 0)
            #expect(try await broker.momctl(["queue", "create", "jobs", "--partitions", "1", "--replication-factor", "1"]).status == 0)

            let moved = try await broker.momctl(["topic", "reassign", "orders", "--partition", "1", "--replicas", "1"])
            #expect(moved.status == 0, "\(moved.error)")
            #expect(moved.output.contains("moving topic 'orders' partition 1 from 1 to 1"), "\(moved.output)")
            let queue = try await broker.momctl(["queue", "reassign", "jobs", "--partition", "0", "--replicas", "1"])
            #expect(queue.status == 0 && queue.output.contains("moving queue 'jobs' partition 0"), "\(queue.output) \(queue.error)")

            let unknown = try await broker.momctl(["topic", "reassign", "orders", "--partition", "0", "--replicas", "1,9"])
            #expect(unknown.status != 0)
            #expect(unknown.error.contains("node 9 is not a live registered node"), "\(unknown.error)")
            let malformed = try await broker.momctl(["topic", "reassign", "orders", "--partition", "0", "--replicas", "1,x"])
            #expect(malformed.status != 0 && malformed.error.contains("--replicas must be node IDs"), "\(malformed.error)")

            // A single broker has nowhere to move its replicas to.
            let drain = try await broker.momctl(["node", "drain", "1", "--dry-run"])
            #expect(drain.status != 0 && drain.error.contains("no live node can take node 1's place"), "\(drain.error)")
            let idle = try await broker.momctl(["node", "drain", "7"])
            #expect(idle.status == 0 && idle.output.contains("node 7 holds no partition replicas"), "\(idle.output) \(idle.error)")

            // __meta's voters: the standalone broker is its only possible voter.
            let meta = try await broker.momctl(["cluster", "meta-reassign", "--replicas", "1"])
            #expect(meta.status == 0 && meta.output.contains("moving __meta's voters from 1 to 1"), "\(meta.output) \(meta.error)")
            let absent = try await broker.momctl(["cluster", "meta-reassign", "--replicas", "1,9"])
            #expect(absent.status == 1 && absent.error.contains("node 9 is not a live registered node"), "\(absent.error)")
            let twice = try await broker.momctl(["cluster", "meta-reassign", "--replicas", "1,1"])
            #expect(twice.status == 1 && twice.error.contains("twice"), "\(twice.error)")
            let usage = try await broker.momctl(["cluster", "meta-reassign"])
            #expect(usage.status == 2, "\(usage.error)")
            let view = try await broker.momctl(["cluster", "status", "--output", "json"])
            #expect(view.status == 0, "\(view.error)")
        }
    }
}
