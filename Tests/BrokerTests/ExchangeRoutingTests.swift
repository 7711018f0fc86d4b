import MOMCore
import Testing
@testable import Broker

@Suite struct ExchangeRoutingTests {
    /// (pattern, routing key, matches), following RabbitMQ's topic exchange semantics
    /// (rabbit_db_topic_exchange: keys split on '.', empty key = zero words).
    static let topicTable: [(String, String, Bool)] = [
        ("#", "", true), ("#", "a", true), ("#", "a.b.c", true), ("#", "..", true),
        ("*", "", false), ("*", "a", true), ("*", "a.b", false), ("*", ".", false),
        ("a.#", "a", true), ("a.#", "a.b", true), ("a.#", "a.b.c", true), ("a.#", "b", false), ("a.#", "ab", false),
        ("a.#.b", "a.b", true), ("a.#.b", "a.x.b", true), ("a.#.b", "a.x.y.b", true), ("a.#.b", "a.b.c", false),
        ("*.b", "b", false), ("*.b", "a.b", true), ("*.b", ".b", true), ("*.b", "a.a.b", false),
        ("a.*", "a.", true), ("a.*", "a", false),
        ("a..b", "a..b", true), ("a.*.b", "a..b", true), ("a.b", "a..b", false),
        ("#.#", "", true), ("#.#", "a.b", true), ("#.*", "", false), ("#.*", "a", true), ("*.#", "a.b.c", true),
        ("#.a.#", "x.a.y", true), ("#.a.#", "a", true), ("#.a.#", "x.y", false),
        ("", "", true), ("", "a", false), ("a", "", false),
        ("a*", "ab", false), ("a*", "a*", true), ("a#", "a", false),
        ("stock.usd.nyse", "stock.usd.nyse", true), ("stock.*.nyse", "stock.eur.nyse", true),
        ("*.orange.*", "quick.orange.rabbit", true), ("*.*.rabbit", "lazy.orange.elephant", false),
        ("lazy.#", "lazy.orange.male.rabbit", true), ("*.orange.*", "quick.orange.male.rabbit", false),
    ]

    @Test func topicPatternTable() {
        for (pattern, key, expected) in Self.topicTable {
            #expect(TopicPattern.matches(pattern: pattern, routingKey: key) == expected, "'\(pattern)' vs '\(key)'")
        }
    }

    @Test func manyHashesStayFast() {
        // Naive backtracking is exponential here; the DP answers immediately.
        let pattern = Array(repeating: "#", count: 100).joined(separator: ".") + ".z"
        let key = Array(repeating: "a", count: 120).joined(separator: ".")
        #expect(!TopicPattern.matches(pattern: pattern, routingKey: key))
        #expect(TopicPattern.matches(pattern: pattern, routingKey: key + ".z"))
    }

    private func binding(_ id: UInt64, _ destination: String, _ key: String, _ type: DestinationType = .queue) -> Binding {
        Binding(id: BindingID(id), exchange: "x", destination: destination, destinationType: type, bindingKey: key)
    }

    @Test func directMatchesExactKeyOnly() {
        let bindings = [binding(1, "q1", "red"), binding(2, "q2", "green"), binding(3, "q3", "")]
        #expect(ExchangeRouting.route(type: .direct, bindings: bindings, routingKey: "red").map(\.destination) == ["q1"])
        #expect(ExchangeRouting.route(type: .direct, bindings: bindings, routingKey: "").map(\.destination) == ["q3"])
        #expect(ExchangeRouting.route(type: .direct, bindings: bindings, routingKey: "Red").isEmpty)
    }

    @Test func fanoutIgnoresKeys() {
        let bindings = [binding(2, "q2", "ignored"), binding(1, "t1", "", .topic)]
        let routed = ExchangeRouting.route(type: .fanout, bindings: bindings, routingKey: "anything")
        #expect(routed == [
            RouteDestination(destination: "t1", destinationType: .topic),
            RouteDestination(destination: "q2", destinationType: .queue),
        ])
        #expect(ExchangeRouting.route(type: .fanout, bindings: [], routingKey: "a").isEmpty)
    }

    @Test func deduplicatesPerDestinationButKeepsTypesApart() {
        let bindings = [
            binding(1, "d", "a.*"), binding(2, "d", "#"), binding(3, "d", "a.b", .topic), binding(4, "e", "x.#"),
        ]
        let routed = ExchangeRouting.route(type: .topic, bindings: bindings, routingKey: "a.b")
        #expect(routed == [
            RouteDestination(destination: "d", destinationType: .queue),
            RouteDestination(destination: "d", destinationType: .topic),
        ])
        #expect(ExchangeRouting.route(type: .topic, bindings: [binding(4, "e", "x.#")], routingKey: "a").isEmpty)
    }

    /// Edge cases of empty words and `#` placement (leading, trailing and doubled dots, `#`
    /// alone, `#.#`, `a.#.b`), with RabbitMQ's answers: an empty routing key has zero words,
    /// "a." is ["a", ""], and `#` may stand for zero words anywhere.
    static let edgeTable: [(String, String, Bool)] = [
        ("#", ".", true), ("#", "a.", true), ("#", ".a", true),
        ("*", ".", false), ("*.*", ".", true), ("*.*", "a.", true), ("*.*", "", false),
        (".#", "", false), (".#", ".", true), (".#", ".a.b", true), (".#", "a", false),
        ("#.", "a.", true), ("#.", "", false), ("#.", "a", false), ("#.", ".", true),
        ("a.#", "a.", true), ("#.a", ".a", true), ("#.a", "a", true), ("#.a", "a.", false),
        ("a.#.b", "a..b", true), ("a.#.b", "ab", false), ("a.#.b", "a.b.b", true), ("a.#.b", "b.a.b", false),
        ("#.#", ".", true), ("#.#", "a", true), ("#.#.#", "a.b.c.d", true), ("a.#.#.b", "a.b", true),
        ("#.b.#", "b", true), ("#.b.#", "a.b.c", true), ("#.b.#", "a.c", false),
        ("*.#.*", "a", false), ("*.#.*", "a.b", true), ("*.#.*", "a.b.c.d", true),
        ("..", "..", true), ("..", ".", false), ("*..*", "a..b", true), ("*..*", "a.b", false),
    ]

    @Test func emptyWordsAndHashPlacement() {
        for (pattern, key, expected) in Self.edgeTable {
            #expect(TopicPattern.matches(pattern: pattern, routingKey: key) == expected, "'\(pattern)' vs '\(key)'")
        }
    }

    /// One exchange of each type over the same bindings: (routing key → destinations, in
    /// binding order, each once).
    @Test func routingTablesPerExchangeType() {
        let bindings = [
            binding(1, "all", "#", .topic), binding(2, "eu-orders", "order.eu.*"), binding(3, "created", "*.*.created", .topic),
            binding(4, "audit", "order.#"), binding(5, "exact", "order.eu.created"), binding(6, "audit", "#.deleted"),
            binding(7, "empty", ""),
        ]
        let topicTable: [(String, [String])] = [
            ("order.eu.created", ["all", "eu-orders", "created", "audit", "exact"]),
            ("order.us.created", ["all", "created", "audit"]),
            ("order.eu", ["all", "audit"]),
            ("order", ["all", "audit"]),
            ("user.deleted", ["all", "audit"]),
            ("", ["all", "empty"]),
            ("x.y.z.w", ["all"]),
        ]
        for (key, expected) in topicTable {
            #expect(ExchangeRouting.route(type: .topic, bindings: bindings, routingKey: key).map(\.destination) == expected, "topic '\(key)'")
        }
        let directTable: [(String, [String])] = [
            ("order.eu.created", ["exact"]), ("#", ["all"]), ("", ["empty"]), ("order.eu.*", ["eu-orders"]), ("order.us.created", []),
        ]
        for (key, expected) in directTable {
            #expect(ExchangeRouting.route(type: .direct, bindings: bindings, routingKey: key).map(\.destination) == expected, "direct '\(key)'")
        }
        for key in ["", "anything", "order.eu.created"] {
            #expect(ExchangeRouting.route(type: .fanout, bindings: bindings, routingKey: key).map(\.destination)
                    == ["all", "eu-orders", "created", "audit", "exact", "empty"], "fanout '\(key)'")
        }
    }

    /// A catalog routes through its exchanges; a missing exchange is a 404 model error.
    @Test func catalogRouteResolvesExchangeAndBindings() {
        var catalog = Catalog()
        let created = catalog.apply(.createTopic(CreateTopic(
            name: "t", partitions: 1, replicationFactor: 1, retentionMilliseconds: nil, retentionBytes: nil, replicas: [[NodeID(1)]])))
        #expect((try? created.get()) != nil)
        #expect((try? catalog.apply(.createExchange(name: "x", type: .topic)).get()) != nil)
        #expect((try? catalog.apply(.addBinding(AddBinding(exchange: "x", destination: "t", destinationType: .topic, bindingKey: "a.#"))).get()) != nil)
        #expect((try? catalog.route(exchange: "x", routingKey: "a.b").get()) == [RouteDestination(destination: "t", destinationType: .topic)])
        #expect((try? catalog.route(exchange: "x", routingKey: "b").get()) == [])
        guard case .failure(let error) = catalog.route(exchange: "nope", routingKey: "a") else { Issue.record("expected 404"); return }
        #expect(error.status == 404)
    }
}
