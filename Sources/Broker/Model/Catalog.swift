import MOMCore

/// The broker's metadata: topics, queues, exchanges, bindings, subscriptions and the Raft groups
/// behind every partition. It is the state machine of the `__meta` log: every node applies the
/// same `CatalogCommand`s in the same order and so holds the same catalog. `apply` therefore
/// decides only from the command and the current state (never a clock or the node's view of
/// liveness), and a rejected command changes nothing.
struct Catalog: Equatable, Sendable {
    let limits: Limits

    private(set) var topicsByName: [String: TopicConfig] = [:]
    private(set) var queuesByName: [String: QueueConfig] = [:]
    private(set) var exchangesByName: [String: ExchangeConfig] = [:]
    /// Per exchange, ascending by binding ID.
    private(set) var bindingsByExchange: [String: [Binding]] = [:]
    /// Per topic, by subscription name.
    private(set) var subscriptionsByTopic: [String: [String: SubscriptionConfig]] = [:]
    private(set) var groupsByID: [GroupID: GroupAssignment] = [:]

    /// Next partition group to allocate. `__meta` is group 0, so partitions start at 1.
    private(set) var nextGroupID = GroupID(1)
    private(set) var nextBindingID = BindingID(1)
    private(set) var nextSubscriptionID: UInt64 = 1
    /// Bindings over all exchanges, kept so the catalog-wide bound is O(1) to check.
    private(set) var bindingCount = 0
    /// The voters `__meta` should have, once an operator set them (`reassignMeta`); nil means
    /// the voters it was formed with (`--meta-replicas`). Held here so a new `__meta` leader
    /// resumes a change its predecessor did not finish.
    private(set) var metaVoters: [NodeID]?

    init(limits: Limits = .standard) { self.limits = limits }

    static func == (a: Catalog, b: Catalog) -> Bool {
        a.topicsByName == b.topicsByName && a.queuesByName == b.queuesByName
            && a.exchangesByName == b.exchangesByName && a.bindingsByExchange == b.bindingsByExchange
            && a.subscriptionsByTopic == b.subscriptionsByTopic && a.groupsByID == b.groupsByID
            && a.nextGroupID == b.nextGroupID && a.nextBindingID == b.nextBindingID
            && a.nextSubscriptionID == b.nextSubscriptionID && a.metaVoters == b.metaVoters
    }

    // MARK: Queries (sorted, so every node lists the same thing in the same order)

    var topics: [TopicConfig] { topicsByName.values.sorted { $0.name < $1.name } }
    func topic(_ name: String) -> TopicConfig? { topicsByName[name] }
    var queues: [QueueConfig] { queuesByName.values.sorted { $0.name < $1.name } }
    func queue(_ name: String) -> QueueConfig? { queuesByName[name] }
    var exchanges: [ExchangeConfig] { exchangesByName.values.sorted { $0.name < $1.name } }
    func exchange(_ name: String) -> ExchangeConfig? { exchangesByName[name] }

    /// The exchange's bindings by ascending ID, or nil when the exchange does not exist.
    func bindings(exchange: String) -> [Binding]? {
        guard exchangesByName[exchange] != nil else { return nil }
        return bindingsByExchange[exchange] ?? []
    }

    /// The topic's subscriptions by name, or nil when the topic does not exist.
    func subscriptions(topic: String) -> [SubscriptionConfig]? {
        guard topicsByName[topic] != nil else { return nil }
        return (subscriptionsByTopic[topic] ?? [:]).values.sorted { $0.name < $1.name }
    }

    func subscription(topic: String, name: String) -> SubscriptionConfig? { subscriptionsByTopic[topic]?[name] }

    /// Every partition group, ascending by ID (`__meta` is not listed: it is always group 0).
    var groups: [GroupAssignment] { groupsByID.values.sorted { $0.group < $1.group } }
    func group(_ id: GroupID) -> GroupAssignment? { groupsByID[id] }

    /// Where exchange `name` sends a message with `routingKey`; 404 when the exchange is missing.
    func route(exchange name: String, routingKey: String) -> Result<[RouteDestination], ModelError> {
        guard let exchange = exchangesByName[name] else { return .failure(Self.exchangeMissing(name)) }
        return .success(ExchangeRouting.route(
            type: exchange.type, bindings: bindingsByExchange[name] ?? [], routingKey: routingKey))
    }

    // MARK: Apply

    /// Applies one committed `__meta` command. On failure the catalog is unchanged and the error
    /// is what the proposing handler returns to its client.
    mutating func apply(_ command: CatalogCommand) -> Result<CatalogOutcome, ModelError> {
        do throws(ModelError) {
            try validate(command)
            return .success(mutate(command))
        } catch {
            return .failure(error)
        }
    }

    /// Checks `command` against the current state without changing it. Handlers call it before
    /// proposing, to answer 4xx early; `apply` calls it again because state may move meanwhile.
    func validate(_ command: CatalogCommand) throws(ModelError) {
        switch command {
        case .createTopic(let create): try validateCreateTopic(create)
        case .deleteTopic(let name): _ = try existingTopic(name)
        case .createQueue(let create): try validateCreateQueue(create)
        case .deleteQueue(let name): try validateDeleteQueue(name)
        case .createExchange(let name, _): try validateCreateExchange(name)
        case .deleteExchange(let name): _ = try existingExchange(name)
        case .addBinding(let add): try validateAddBinding(add)
        case .removeBinding(let exchange, let id): try validateRemoveBinding(exchange: exchange, id: id)
        case .createSubscription(let create): try validateCreateSubscription(create)
        case .deleteSubscription(let topic, let name): try validateDeleteSubscription(topic: topic, name: name)
        case .reassignPartition(let reassign): try validateReassignPartition(reassign)
        case .reassignMeta(let voters): try validateMetaVoters(voters)
        }
    }

    private mutating func mutate(_ command: CatalogCommand) -> CatalogOutcome {
        switch command {
        case .createTopic(let create): return insertTopic(create)
        case .deleteTopic(let name): return removeTopic(name)
        case .createQueue(let create): return insertQueue(create)
        case .deleteQueue(let name): return removeQueue(name)
        case .createExchange(let name, let type):
            exchangesByName[name] = ExchangeConfig(name: name, type: type)
            return CatalogOutcome()
        case .deleteExchange(let name):
            exchangesByName[name] = nil
            var outcome = CatalogOutcome()
            outcome.removedBindings = bindingsByExchange.removeValue(forKey: name) ?? []
            bindingCount -= outcome.removedBindings.count
            return outcome
        case .addBinding(let add): return insertBinding(add)
        case .removeBinding(let exchange, let id):
            var outcome = CatalogOutcome()
            if let index = bindingsByExchange[exchange]?.firstIndex(where: { $0.id == id }) {
                outcome.removedBindings = [bindingsByExchange[exchange]!.remove(at: index)]
                bindingCount -= 1
            }
            dropIfEmpty(bindingsOf: exchange)
            return outcome
        case .createSubscription(let create): return insertSubscription(create)
        case .reassignPartition(let reassign): return reassignPartition(reassign)
        case .reassignMeta(let voters):
            metaVoters = voters
            return CatalogOutcome()
        case .deleteSubscription(let topic, let name):
            var outcome = CatalogOutcome()
            if let removed = subscriptionsByTopic[topic]?.removeValue(forKey: name) {
                outcome.removedSubscriptions = [removed]
            }
            if subscriptionsByTopic[topic]?.isEmpty == true { subscriptionsByTopic[topic] = nil }
            return outcome
        }
    }

    // MARK: Mutations (validated already)

    private mutating func allocatePlacements(
        _ replicas: [[NodeID]], owner: String, type: DestinationType, into outcome: inout CatalogOutcome
    ) -> [PartitionPlacement] {
        replicas.enumerated().map { index, nodes in
            let partition = PartitionID(UInt32(index))
            let group = nextGroupID
            nextGroupID = GroupID(group.rawValue + 1)
            let assignment = GroupAssignment(
                group: group, owner: GroupOwner(destinationType: type, name: owner, partition: partition), replicas: nodes)
            groupsByID[group] = assignment
            outcome.createdGroups.append(assignment)
            return PartitionPlacement(partition: partition, group: group, replicas: nodes)
        }
    }

    private mutating func releaseGroups(_ partitions: [PartitionPlacement], into outcome: inout CatalogOutcome) {
        for placement in partitions {
            groupsByID[placement.group] = nil
            outcome.removedGroups.append(placement.group)
        }
    }

    private mutating func insertTopic(_ create: CreateTopic) -> CatalogOutcome {
        var outcome = CatalogOutcome()
        let partitions = allocatePlacements(create.replicas, owner: create.name, type: .topic, into: &outcome)
        topicsByName[create.name] = TopicConfig(
            name: create.name, replicationFactor: create.replicationFactor,
            retentionMilliseconds: create.retentionMilliseconds, retentionBytes: create.retentionBytes,
            partitions: partitions)
        return outcome
    }

    private mutating func removeTopic(_ name: String) -> CatalogOutcome {
        var outcome = CatalogOutcome()
        guard let topic = topicsByName.removeValue(forKey: name) else { return outcome }
        releaseGroups(topic.partitions, into: &outcome)
        outcome.removedSubscriptions = (subscriptionsByTopic.removeValue(forKey: name) ?? [:]).values
            .sorted { $0.name < $1.name }
        outcome.removedBindings = removeBindings(to: name, type: .topic)
        return outcome
    }

    private mutating func insertQueue(_ create: CreateQueue) -> CatalogOutcome {
        var outcome = CatalogOutcome()
        let partitions = allocatePlacements(create.replicas, owner: create.name, type: .queue, into: &outcome)
        var deadLetterName: String?
        if create.maxDeliveries != nil {
            let name = ResourceName.deadLetterQueue(of: create.name)
            deadLetterName = name
            let deadLetterPartitions = allocatePlacements(
                create.deadLetterReplicas, owner: name, type: .queue, into: &outcome)
            queuesByName[name] = QueueConfig(
                name: name, replicationFactor: create.replicationFactor,
                ackTimeoutMilliseconds: create.ackTimeoutMilliseconds, maxDeliveries: nil,
                partitions: deadLetterPartitions, deadLetterQueue: nil, deadLetterSource: create.name)
        }
        queuesByName[create.name] = QueueConfig(
            name: create.name, replicationFactor: create.replicationFactor,
            ackTimeoutMilliseconds: create.ackTimeoutMilliseconds, maxDeliveries: create.maxDeliveries,
            partitions: partitions, deadLetterQueue: deadLetterName, deadLetterSource: nil)
        return outcome
    }

    private mutating func removeQueue(_ name: String) -> CatalogOutcome {
        var outcome = CatalogOutcome()
        guard let queue = queuesByName.removeValue(forKey: name) else { return outcome }
        releaseGroups(queue.partitions, into: &outcome)
        outcome.removedBindings = removeBindings(to: name, type: .queue)
        if let deadLetterName = queue.deadLetterQueue, let deadLetter = queuesByName.removeValue(forKey: deadLetterName) {
            releaseGroups(deadLetter.partitions, into: &outcome)
            outcome.removedBindings += removeBindings(to: deadLetterName, type: .queue)
        }
        return outcome
    }

    /// Bindings die with their destination, as RabbitMQ's do with their queue.
    private mutating func removeBindings(to destination: String, type: DestinationType) -> [Binding] {
        var removed: [Binding] = []
        for exchange in bindingsByExchange.keys.sorted() {
            bindingsByExchange[exchange]!.removeAll { binding in
                let matches = binding.destination == destination && binding.destinationType == type
                if matches { removed.append(binding) }
                return matches
            }
            dropIfEmpty(bindingsOf: exchange)
        }
        bindingCount -= removed.count
        return removed
    }

    /// Keeps storage canonical (no empty lists), so equal catalogs compare equal however they
    /// got there, and a snapshot restore is indistinguishable from a replay.
    private mutating func dropIfEmpty(bindingsOf exchange: String) {
        if bindingsByExchange[exchange]?.isEmpty == true { bindingsByExchange[exchange] = nil }
    }

    private mutating func insertBinding(_ add: AddBinding) -> CatalogOutcome {
        let binding = Binding(
            id: nextBindingID, exchange: add.exchange, destination: add.destination,
            destinationType: add.destinationType, bindingKey: add.bindingKey)
        nextBindingID = BindingID(nextBindingID.rawValue + 1)
        bindingsByExchange[add.exchange, default: []].append(binding)
        bindingCount += 1
        var outcome = CatalogOutcome()
        outcome.binding = binding
        return outcome
    }

    /// Points one partition at a new replica set; the group keeps its initial replicas.
    private mutating func reassignPartition(_ reassign: ReassignPartition) -> CatalogOutcome {
        let index = Int(reassign.partition.rawValue)
        let placement: PartitionPlacement
        switch reassign.destinationType {
        case .topic:
            let topic = topicsByName[reassign.name]!
            placement = topic.partitions[index].moved(to: reassign.replicas)
            topicsByName[reassign.name] = topic.replacing(placement)
        case .queue:
            let queue = queuesByName[reassign.name]!
            placement = queue.partitions[index].moved(to: reassign.replicas)
            queuesByName[reassign.name] = queue.replacing(placement)
        }
        let assignment = GroupAssignment(
            group: placement.group, owner: groupsByID[placement.group]!.owner,
            replicas: placement.replicas, initialReplicas: placement.initialReplicas)
        groupsByID[placement.group] = assignment
        var outcome = CatalogOutcome()
        outcome.reassignedGroups = [assignment]
        return outcome
    }

    private mutating func insertSubscription(_ create: CreateSubscription) -> CatalogOutcome {
        let subscription = SubscriptionConfig(
            topic: create.topic, name: create.name, id: nextSubscriptionID, start: create.start,
            startOffsets: create.startOffsets)
        nextSubscriptionID += 1
        subscriptionsByTopic[create.topic, default: [:]][create.name] = subscription
        var outcome = CatalogOutcome()
        outcome.subscription = subscription
        return outcome
    }
}

extension Catalog {
    /// Rebuilds a catalog from snapshot parts; used by `CatalogSnapshot` only. Derived state
    /// (the group index) is recomputed rather than trusted.
    init(
        limits: Limits, topics: [TopicConfig], queues: [QueueConfig], exchanges: [ExchangeConfig],
        bindings: [Binding], subscriptions: [SubscriptionConfig],
        nextGroupID: GroupID, nextBindingID: BindingID, nextSubscriptionID: UInt64, metaVoters: [NodeID]? = nil
    ) {
        self.limits = limits
        self.metaVoters = metaVoters
        for topic in topics {
            topicsByName[topic.name] = topic
            index(topic.partitions, owner: topic.name, type: .topic)
        }
        for queue in queues {
            queuesByName[queue.name] = queue
            index(queue.partitions, owner: queue.name, type: .queue)
        }
        for exchange in exchanges { exchangesByName[exchange.name] = exchange }
        for binding in bindings { bindingsByExchange[binding.exchange, default: []].append(binding) }
        bindingCount = bindings.count
        for subscription in subscriptions {
            subscriptionsByTopic[subscription.topic, default: [:]][subscription.name] = subscription
        }
        self.nextGroupID = nextGroupID
        self.nextBindingID = nextBindingID
        self.nextSubscriptionID = nextSubscriptionID
    }

    private mutating func index(_ partitions: [PartitionPlacement], owner: String, type: DestinationType) {
        for placement in partitions {
            groupsByID[placement.group] = GroupAssignment(
                group: placement.group,
                owner: GroupOwner(destinationType: type, name: owner, partition: placement.partition),
                replicas: placement.replicas, initialReplicas: placement.initialReplicas)
        }
    }
}
