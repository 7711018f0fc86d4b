import Foundation
import Testing

/// Queue, exchange and subscription commands against a real momd.
@Suite("momctl queues, exchanges, subscriptions against a real momd", .serialized)
struct MomctlResourceProcessTests {
    private func loggedIn(_ broker: StandaloneBroker) async throws {
        let login = try await broker.momctl(["login", "--server", broker.server, "--user", "admin", "--password-stdin"],
                                            input: StandaloneBroker.password + "\n")
        try #require(login.status == 0, "\(login.error)")
    }

    @Test("queue create, send, receive, ack, stats, delete")
    func queues() async throws {
        try await StandaloneBroker.run { broker in
            try await loggedIn(broker)
            #expect(try await broker.momctl(["queue", "create", "jobs", "--partitions", "1", "--replication-factor", "1"]).status == 0)
            #expect(try await broker.momctl(["queue", "list"]).output.contains("jobs"))
            #expect(try await broker.momctl(["queue", "send", "jobs"], input: "a\nb\n").status == 0)
            let received = try await broker.momctl(["queue", "receive", "jobs", "--max-messages", "10", "--output", "json"])
            let messages = try #require((try parseJSON(received.output) as? [String: Any])?["messages"] as? [[String: Any]], "\(received.error)")
            #expect(messages.compactMap { $0["value"] as? String }.sorted() == ["a", "b"])
            let receipts = messages.compactMap { $0["receipt"] as? String }
            #expect(try await broker.momctl(["queue", "ack", "jobs"] + receipts).status == 0)
            let stats = try await broker.momctl(["queue", "stats", "jobs", "--output", "json"])
            #expect((try parseJSON(stats.output) as? [String: Any])?["in_flight"] as? Int == 0)
            #expect(try await broker.momctl(["queue", "delete", "jobs"]).status == 0)
        }
    }

    @Test("exchange create, bind, bindings, publish, unbind, delete")
    func exchanges() async throws {
        try await StandaloneBroker.run { broker in
            try await loggedIn(broker)
            #expect(try await broker.momctl(["topic", "create", "events", "--partitions", "1", "--replication-factor", "1"]).status == 0)
            #expect(try await broker.momctl(["exchange", "create", "x", "--type", "topic"]).status == 0)
            let bind = try await broker.momctl(["exchange", "bind", "x", "--destination", "events", "--destination-type", "topic",
                                                "--binding-key", "order.*", "--output", "json"])
            let id = try #require((try parseJSON(bind.output) as? [String: Any])?["id"] as? String, "\(bind.error)")
            #expect(try await broker.momctl(["exchange", "bindings", "x"]).output.contains("order.*"))
            let published = try await broker.momctl(["exchange", "publish", "x", "--routing-key", "order.created", "hello", "--output", "json"])
            let results = try #require((try parseJSON(published.output) as? [String: Any])?["results"] as? [[String: Any]], "\(published.error)")
            #expect((results.first?["routed"] as? [Any])?.count == 1)
            #expect(try await broker.momctl(["exchange", "unbind", "x", id]).status == 0)
            #expect(try await broker.momctl(["exchange", "delete", "x"]).status == 0)
        }
    }

    @Test("subscription create, poll with commit, show lag, delete")
    func subscriptions() async throws {
        try await StandaloneBroker.run { broker in
            try await loggedIn(broker)
            #expect(try await broker.momctl(["topic", "create", "feed", "--partitions", "1", "--replication-factor", "1"]).status == 0)
            #expect(try await broker.momctl(["subscription", "create", "feed", "s", "--start", "earliest"]).status == 0)
            #expect(try await broker.momctl(["produce", "feed"], input: "1\n2\n").status == 0)
            let polled = try await broker.momctl(["subscription", "poll", "feed", "s", "--wait-ms", "1000", "--commit"])
            #expect(polled.output == "1\n2\n", "\(polled.error)")
            let shown = try await broker.momctl(["subscription", "show", "feed", "s", "--output", "json"])
            #expect((try parseJSON(shown.output) as? [String: Any])?["total_lag"] as? Int == 0)
            #expect(try await broker.momctl(["subscription", "list", "feed"]).output.contains("s"))
            #expect(try await broker.momctl(["subscription", "delete", "feed", "s"]).status == 0)
        }
    }
}
