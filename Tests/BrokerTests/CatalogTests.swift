import MOMCore
import Testing
@testable import Broker

/// Builders shared by catalog tests.
enum CatalogFixtures {
    static let nodes = [NodeID(1), NodeID(2), NodeID(3)]

    static func replicas(_ partitions: Int, _ replicationFactor: Int = 3) -> [[NodeID]] {
        try! Placement.assign(partitions: partitions, replicationFactor: replicationFactor, liveNodes: nodes)
    }

    static func createTopic(_ name: String, partitions: Int = 2, retentionMilliseconds: UInt64? = nil) -> CatalogCommand {
        .createTopic(CreateTopic(
            name: name, partitions: partitions, replicationFactor: 3, retentionMilliseconds: retentionMilliseconds,
            retentionBytes: nil, replicas: replicas(partitions)))
    }

    static func createQueue(_ name: String, partitions: Int = 2, maxDeliveries: Int? = nil) -> CatalogCommand {
        .createQueue(CreateQueue(
            name: name, partitions: partitions, replicationFactor: 3,
            ackTimeoutMilliseconds: CreateQueue.defaultAckTimeoutMilliseconds, maxDeliveries: maxDeliveries,
            replicas: replicas(partitions), deadLetterReplicas: maxDeliveries == nil ? [] : replicas(partitions)))
    }

    static func bind(_ exchange: String, _ destination: String, _ type: DestinationType = .queue, key: String = "") -> CatalogCommand {
        .addBinding(AddBinding(exchange: exchange, destination: destination, destinationType: type, bindingKey: key))
    }

    /// A catalog exercising every kind of entry.
    static func populated() -> Catalog {
        var catalog = Catalog()
        let commands: [CatalogCommand] = [
            createTopic("orders", partitions: 3, retentionMilliseconds: 86_400_000),
            createTopic("audit", partitions: 1),
            createQueue("jobs", maxDeliveries: 5),
            createQueue("mail"),
            .createExchange(name: "events", type: .topic),
            .createExchange(name: "all", type: .fanout),
            bind("events", "jobs", key: "job.#"),
            bind("events", "orders", .topic, key: "order.*"),
            bind("all", "mail"),
            .createSubscription(CreateSubscription(
                topic: "orders", name: "billing", start: .earliest, startOffsets: [Offset(0), Offset(0), Offset(0)])),
            .createSubscription(CreateSubscription(
                topic: "orders", name: "search", start: .latest, startOffsets: [Offset(5), Offset(7), Offset(9)])),
            .reassignPartition(ReassignPartition(
                destinationType: .topic, name: "orders", partition: PartitionID(1), replicas: [NodeID(4), NodeID(2), NodeID(1)])),
        ]
        for command in commands {
            guard case .success = catalog.apply(command) else { fatalError("fixture command failed: \(command)") }
        }
        return catalog
    }
}

@Suite struct CatalogTests {
    private func expectFailure(
        _ result: Result<CatalogOutcome, ModelError>, status: Int, containing text: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        guard case .failure(let error) = result else {
            Issue.record("expected \(status), got \(result)", sourceLocation: sourceLocation)
            return
        }
        #expect(error.status == status, "\(error)", sourceLocation: sourceLocation)
        #expect(error.message.contains(text), "\(error.message)", sourceLocation: sourceLocation)
    }

    @Test func createTopicAllocatesGroupsFromOne() throws {
        var catalog = Catalog()
        let outcome = try catalog.apply(CatalogFixtures.createTopic("orders", partitions: 3)).get()
        #expect(outcome.createdGroups.map(\.group) == [GroupID(1), GroupID(2), GroupID(3)])
        let topic = try #require(catalog.topic("orders"))
        #expect(topic.partitions.map(\.partition) == [PartitionID(0), PartitionID(1), PartitionID(2)])
        #expect(catalog.groups.map(\.owner.name) == ["orders", "orders", "orders"])
        #expect(!catalog.groups.contains { $0.group == metaGroupID })
        let second = try catalog.apply(CatalogFixtures.createTopic("audit", partitions: 1)).get()
        #expect(second.createdGroups.map(\.group) == [GroupID(4)])
    }

    @Test func groupIDsAreNeverReused() throws {
        var catalog = Catalog()
        _ = try catalog.apply(CatalogFixtures.createTopic("a", partitions: 2)).get()
        let deleted = try catalog.apply(.deleteTopic(name: "a")).get()
        #expect(deleted.removedGroups == [GroupID(1), GroupID(2)])
        #expect(catalog.groups.isEmpty)
        let again = try catalog.apply(CatalogFixtures.createTopic("a", partitions: 1)).get()
        #expect(again.createdGroups.map(\.group) == [GroupID(3)])
    }

    @Test func duplicatesAndSharedNamespaceAre409() {
        var catalog = CatalogFixtures.populated()
        let before = catalog
        expectFailure(catalog.apply(CatalogFixtures.createTopic("orders")), status: 409, containing: "topic named 'orders'")
        expectFailure(catalog.apply(CatalogFixtures.createQueue("orders")), status: 409, containing: "topics and queues share")
        expectFailure(catalog.apply(CatalogFixtures.createTopic("jobs.dead-letter")), status: 409, containing: "queue named")
        expectFailure(catalog.apply(.createExchange(name: "events", type: .direct)), status: 409, containing: "exchange 'events'")
        expectFailure(catalog.apply(CatalogFixtures.bind("events", "jobs", key: "job.#")), status: 409, containing: "as binding 1")
        expectFailure(catalog.apply(.createSubscription(CreateSubscription(
            topic: "orders", name: "billing", start: .latest, startOffsets: [.zero, .zero, .zero]))),
            status: 409, containing: "subscription 'billing'")
        #expect(catalog == before, "a rejected command changes nothing")
    }

    @Test func missingThingsAre404() {
        var catalog = CatalogFixtures.populated()
        expectFailure(catalog.apply(.deleteTopic(name: "nope")), status: 404, containing: "POST /v1/topics")
        expectFailure(catalog.apply(.deleteQueue(name: "nope")), status: 404, containing: "queue 'nope'")
        expectFailure(catalog.apply(.deleteExchange(name: "nope")), status: 404, containing: "exchange 'nope'")
        expectFailure(catalog.apply(CatalogFixtures.bind("nope", "jobs")), status: 404, containing: "exchange 'nope'")
        expectFailure(catalog.apply(CatalogFixtures.bind("events", "nope")), status: 404, containing: "queue 'nope'")
        expectFailure(catalog.apply(CatalogFixtures.bind("events", "jobs", .topic)), status: 404, containing: "topic 'jobs'")
        expectFailure(catalog.apply(.removeBinding(exchange: "events", id: BindingID(99))), status: 404, containing: "no binding 99")
        expectFailure(catalog.apply(.deleteSubscription(topic: "orders", name: "nope")), status: 404, containing: "subscription 'nope'")
        expectFailure(catalog.apply(.createSubscription(CreateSubscription(
            topic: "nope", name: "s", start: .earliest, startOffsets: []))), status: 404, containing: "topic 'nope'")
    }

    @Test func badRequestsAre400() {
        var catalog = CatalogFixtures.populated()
        expectFailure(catalog.apply(CatalogFixtures.createTopic("../x")), status: 400, containing: "'/'")
        expectFailure(catalog.apply(CatalogFixtures.createTopic("__meta")), status: 400, containing: "reserved")
        expectFailure(catalog.apply(.createTopic(CreateTopic(
            name: "t", partitions: 2, replicationFactor: 3, retentionMilliseconds: nil, retentionBytes: nil,
            replicas: CatalogFixtures.replicas(1)))), status: 400, containing: "placement lists 1")
        expectFailure(catalog.apply(.createTopic(CreateTopic(
            name: "t", partitions: 1, replicationFactor: 2, retentionMilliseconds: nil, retentionBytes: nil,
            replicas: [[NodeID(1), NodeID(1)]]))), status: 400, containing: "distinct replicas")
        expectFailure(catalog.apply(.createTopic(CreateTopic(
            name: "t", partitions: 0, replicationFactor: 1, retentionMilliseconds: nil, retentionBytes: nil,
            replicas: []))), status: 400, containing: "partitions must be")
        expectFailure(catalog.apply(CatalogFixtures.createTopic("t", retentionMilliseconds: 0)), status: 400, containing: "retention")
        expectFailure(catalog.apply(CatalogFixtures.createQueue("q", maxDeliveries: 0)), status: 400, containing: "max_deliveries")
        let longName = String(repeating: "q", count: 240)
        expectFailure(catalog.apply(CatalogFixtures.createQueue(longName, maxDeliveries: 3)), status: 400, containing: "at most 237 bytes")
        expectFailure(catalog.apply(.createSubscription(CreateSubscription(
            topic: "orders", name: "s", start: .earliest, startOffsets: [.zero]))), status: 400, containing: "1 start offsets for 3")
        expectFailure(catalog.apply(.deleteQueue(name: "jobs.dead-letter")), status: 400, containing: "delete 'jobs'")
        expectFailure(catalog.apply(CatalogFixtures.bind("events", "jobs", key: "a\u{0}")), status: 400, containing: "NUL")
    }

    @Test func queueWithMaxDeliveriesGetsLinkedDeadLetterQueue() throws {
        let catalog = CatalogFixtures.populated()
        let jobs = try #require(catalog.queue("jobs"))
        let deadLetter = try #require(catalog.queue("jobs.dead-letter"))
        #expect(jobs.deadLetterQueue == "jobs.dead-letter")
        #expect(jobs.maxDeliveries == 5 && jobs.ackTimeoutMilliseconds == 30_000)
        #expect(deadLetter.deadLetterSource == "jobs" && deadLetter.maxDeliveries == nil)
        #expect(deadLetter.partitions.count == jobs.partitions.count)
        #expect(catalog.queue("mail")?.deadLetterQueue == nil)
        #expect(catalog.queues.map(\.name) == ["jobs", "jobs.dead-letter", "mail"])
    }

    @Test func deletesCascade() throws {
        var catalog = CatalogFixtures.populated()
        _ = try catalog.apply(CatalogFixtures.bind("all", "jobs.dead-letter")).get()
        let queueOutcome = try catalog.apply(.deleteQueue(name: "jobs")).get()
        #expect(catalog.queue("jobs.dead-letter") == nil)
        #expect(queueOutcome.removedGroups.count == 4)
        #expect(Set(queueOutcome.removedBindings.map(\.destination)) == ["jobs", "jobs.dead-letter"])
        #expect(catalog.bindings(exchange: "events")?.map(\.destination) == ["orders"])

        let topicOutcome = try catalog.apply(.deleteTopic(name: "orders")).get()
        #expect(topicOutcome.removedSubscriptions.map(\.name) == ["billing", "search"])
        #expect(topicOutcome.removedBindings.map(\.destination) == ["orders"])
        #expect(catalog.subscriptions(topic: "orders") == nil)
        #expect(catalog.bindings(exchange: "events") == [])

        let exchangeOutcome = try catalog.apply(.deleteExchange(name: "all")).get()
        #expect(exchangeOutcome.removedBindings.map(\.destination) == ["mail"])
        #expect(catalog.bindings(exchange: "all") == nil)
        #expect(catalog.groups.map(\.owner.name) == ["audit", "mail", "mail"])
    }

    @Test func bindingAndSubscriptionIDsAreAllocatedMonotonically() throws {
        var catalog = CatalogFixtures.populated()
        let added = try catalog.apply(CatalogFixtures.bind("events", "mail", key: "mail.*")).get()
        #expect(added.binding?.id == BindingID(4))
        _ = try catalog.apply(.removeBinding(exchange: "events", id: BindingID(4))).get()
        let again = try catalog.apply(CatalogFixtures.bind("events", "mail", key: "mail.*")).get()
        #expect(again.binding?.id == BindingID(5))
        #expect(catalog.subscription(topic: "orders", name: "search")?.id == 2)
        _ = try catalog.apply(.deleteSubscription(topic: "orders", name: "search")).get()
        let recreated = try catalog.apply(.createSubscription(CreateSubscription(
            topic: "orders", name: "search", start: .earliest, startOffsets: [.zero, .zero, .zero]))).get()
        #expect(recreated.subscription?.id == 3)
    }

    @Test func routesThroughTheCatalog() throws {
        let catalog = CatalogFixtures.populated()
        let routed = try catalog.route(exchange: "events", routingKey: "job.build.linux").get()
        #expect(routed == [RouteDestination(destination: "jobs", destinationType: .queue)])
        #expect(try catalog.route(exchange: "events", routingKey: "other").get().isEmpty)
        guard case .failure(let error) = catalog.route(exchange: "nope", routingKey: "") else {
            Issue.record("routed through a missing exchange")
            return
        }
        #expect(error.status == 404)
    }

    @Test func countLimitsAreEnforced() throws {
        var limits = Limits()
        limits.bindingsPerExchangeMax = 1
        limits.exchangesMax = 1
        limits.catalogResourcesMax = 2
        limits.subscriptionsPerTopicMax = 1
        var catalog = Catalog(limits: limits)
        _ = try catalog.apply(CatalogFixtures.createTopic("t", partitions: 1)).get()
        _ = try catalog.apply(.createExchange(name: "x", type: .direct)).get()
        expectFailure(catalog.apply(.createExchange(name: "y", type: .direct)), status: 400, containing: "maximum of 1 exchanges")
        _ = try catalog.apply(CatalogFixtures.bind("x", "t", .topic, key: "a")).get()
        expectFailure(catalog.apply(CatalogFixtures.bind("x", "t", .topic, key: "b")), status: 400, containing: "maximum of 1 bindings")
        expectFailure(catalog.apply(CatalogFixtures.createQueue("q", maxDeliveries: 2)), status: 400, containing: "topics and queues")
        _ = try catalog.apply(.createSubscription(CreateSubscription(topic: "t", name: "a", start: .earliest, startOffsets: [.zero]))).get()
        expectFailure(catalog.apply(.createSubscription(CreateSubscription(
            topic: "t", name: "b", start: .earliest, startOffsets: [.zero]))), status: 400, containing: "maximum of 1 subscriptions")
    }
}
