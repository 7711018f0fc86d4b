import Foundation
import Testing

/// The built momctl binary against one real standalone momd.
@Suite("momctl against a real momd", .serialized)
struct MomctlProcessTests {
    @Test("login, topics, produce, consume, cluster status, JSON output and exit codes")
    func endToEnd() async throws {
        try await StandaloneBroker.run { broker in
            // Before login: the server needs a token, a runtime error (1) that says to log in.
            let anonymous = try await broker.momctl(["--server", broker.server, "topic", "list"])
            #expect(anonymous.status == 1)
            #expect(anonymous.error.contains("momctl login"))

            let login = try await broker.momctl(["login", "--server", broker.server, "--user", "admin", "--password-stdin"],
                                                input: StandaloneBroker.password + "\n")
            #expect(login.status == 0, "\(login.error)")
            var status = stat()
            try #require(stat(broker.tokenFile, &status) == 0)
            #expect(status.st_mode & 0o777 == 0o600)

            let create = try await broker.momctl(["topic", "create", "orders", "--partitions", "1", "--replication-factor", "1"])
            #expect(create.status == 0, "\(create.error)")
            let list = try await broker.momctl(["topic", "list"])
            #expect(list.output == "TOPIC\norders\n", "\(list.error)")
            let describe = try await broker.momctl(["topic", "describe", "orders", "--output", "json"])
            let description = try #require(try parseJSON(describe.output) as? [String: Any], "\(describe.error)")
            #expect((description["partitions"] as? [Any])?.count == 1)

            let produce = try await broker.momctl(["produce", "orders"], input: "one\ntwo\nthree\n")
            #expect(produce.status == 0, "\(produce.error)")
            #expect(produce.output.hasPrefix("produced 3 records to topic 'orders'"))

            let consume = try await broker.momctl(["consume", "orders", "--partition", "0", "--offset", "earliest"])
            #expect(consume.status == 0, "\(consume.error)")
            #expect(consume.output == "one\ntwo\nthree\n")
            let lines = try await broker.momctl(["--output", "json", "consume", "orders", "--offset", "earliest"])
            let records = try lines.output.split(separator: "\n").map { try #require(try parseJSON(String($0)) as? [String: Any]) }
            #expect(records.compactMap { $0["value"] as? String } == ["one", "two", "three"])

            let cluster = try await broker.momctl(["cluster", "status"])
            #expect(cluster.status == 0, "\(cluster.error)")
            #expect(cluster.output.contains("NODES") && cluster.output.contains("topic:orders/0") && cluster.output.contains("UNDER-REPLICATED\nnone"))
            let clusterJSON = try await broker.momctl(["cluster", "status", "--output", "json"])
            let clusterObject = try #require(try parseJSON(clusterJSON.output) as? [String: Any], "\(clusterJSON.error)")
            #expect((clusterObject["nodes"] as? [Any])?.count == 1)

            let usage = try await broker.momctl(["topic", "create"])
            #expect(usage.status == 2)
            let missing = try await broker.momctl(["topic", "describe", "nope"])
            #expect(missing.status == 1)
            #expect(missing.error.contains("404 not_found"))
        }
    }
}
