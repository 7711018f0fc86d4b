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
}
