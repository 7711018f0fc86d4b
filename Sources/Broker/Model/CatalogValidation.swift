import MOMCore

/// The checks behind `Catalog.validate`. They read only the command and the catalog, so every
/// replica reaches the same verdict. Messages name the resource and the fix (STYLE.md habit 12).
extension Catalog {
    static func exchangeMissing(_ name: String) -> ModelError {
        .notFound("exchange '\(ResourceName.printable(name))' does not exist; create it with POST /v1/exchanges")
    }

    func existingTopic(_ name: String) throws(ModelError) -> TopicConfig {
        guard let topic = topicsByName[name] else {
            throw .notFound("topic '\(ResourceName.printable(name))' does not exist; create it with POST /v1/topics")
        }
        return topic
    }

    func existingQueue(_ name: String) throws(ModelError) -> QueueConfig {
        guard let queue = queuesByName[name] else {
            throw .notFound("queue '\(ResourceName.printable(name))' does not exist; create it with POST /v1/queues")
        }
        return queue
    }

    func existingExchange(_ name: String) throws(ModelError) -> ExchangeConfig {
        guard let exchange = exchangesByName[name] else { throw Self.exchangeMissing(name) }
        return exchange
    }

    /// Topics and queues share one namespace because both become `data/<name>/<partition>/`.
    private func requireFreeLogName(_ name: String) throws(ModelError) {
        if topicsByName[name] != nil {
            throw .alreadyExists("a topic named '\(name)' already exists (topics and queues share names); choose another name or delete it first")
        }
        if queuesByName[name] != nil {
            throw .alreadyExists("a queue named '\(name)' already exists (topics and queues share names); choose another name or delete it first")
        }
    }

    private func validatePlacement(
        _ replicas: [[NodeID]], partitions: Int, replicationFactor: Int, of what: String
    ) throws(ModelError) {
        guard (1...limits.partitionsPerResourceMax).contains(partitions) else {
            throw .badRequest("\(what): partitions must be between 1 and \(limits.partitionsPerResourceMax), not \(partitions)")
        }
        guard (1...limits.replicationFactorMax).contains(replicationFactor) else {
            throw .badRequest("\(what): replication_factor must be between 1 and \(limits.replicationFactorMax), not \(replicationFactor)")
        }
        guard replicas.count == partitions else {
            throw .badRequest("\(what): placement lists \(replicas.count) partitions but \(partitions) were requested")
        }
        for (partition, nodes) in replicas.enumerated() {
            guard nodes.count == replicationFactor, Set(nodes).count == nodes.count else {
                throw .badRequest("\(what): partition \(partition) needs \(replicationFactor) distinct replicas, got \(nodes)")
            }
        }
    }

    private func requireRoom(forResources resources: Int, groups: Int) throws(ModelError) {
        guard topicsByName.count + queuesByName.count + resources <= limits.catalogResourcesMax else {
            throw .badRequest("the catalog already holds the maximum of \(limits.catalogResourcesMax) topics and queues; delete some first")
        }
        guard groupsByID.count + groups <= limits.catalogGroupsMax else {
            throw .badRequest("the cluster already runs \(groupsByID.count) partitions, and the maximum is \(limits.catalogGroupsMax); use fewer partitions or delete topics or queues")
        }
    }

    func validateCreateTopic(_ create: CreateTopic) throws(ModelError) {
        try ResourceName.validate(create.name, kind: .topic, limits: limits)
        try requireFreeLogName(create.name)
        try validatePlacement(
            create.replicas, partitions: create.partitions, replicationFactor: create.replicationFactor,
            of: "topic '\(create.name)'")
        if create.retentionMilliseconds == 0 || create.retentionBytes == 0 {
            throw .badRequest("topic '\(create.name)': retention_ms and retention_bytes must be positive when given")
        }
        try requireRoom(forResources: 1, groups: create.partitions)
    }

    func validateCreateQueue(_ create: CreateQueue) throws(ModelError) {
        try ResourceName.validate(create.name, kind: .queue, limits: limits)
        try requireFreeLogName(create.name)
        let what = "queue '\(create.name)'"
        try validatePlacement(
            create.replicas, partitions: create.partitions, replicationFactor: create.replicationFactor, of: what)
        guard (1...limits.queueAckTimeoutMillisecondsMax).contains(create.ackTimeoutMilliseconds) else {
            throw .badRequest("\(what): ack_timeout_ms must be between 1 and \(limits.queueAckTimeoutMillisecondsMax), not \(create.ackTimeoutMilliseconds)")
        }
        guard let maxDeliveries = create.maxDeliveries else {
            guard create.deadLetterReplicas.isEmpty else {
                throw .badRequest("\(what): a dead-letter placement was given without max_deliveries")
            }
            try requireRoom(forResources: 1, groups: create.partitions)
            return
        }
        guard (1...limits.queueMaxDeliveriesMax).contains(maxDeliveries) else {
            throw .badRequest("\(what): max_deliveries must be between 1 and \(limits.queueMaxDeliveriesMax), not \(maxDeliveries)")
        }
        let deadLetterName = ResourceName.deadLetterQueue(of: create.name)
        do {
            try ResourceName.validate(deadLetterName, kind: .queue, limits: limits)
        } catch {
            throw .badRequest("\(what): its dead-letter queue name '\(ResourceName.printable(deadLetterName))' is too long; use a name of at most \(limits.resourceNameBytesMax - ResourceName.deadLetterSuffix.utf8.count) bytes")
        }
        try requireFreeLogName(deadLetterName)
        try validatePlacement(
            create.deadLetterReplicas, partitions: create.partitions, replicationFactor: create.replicationFactor,
            of: "dead-letter queue '\(deadLetterName)'")
        try requireRoom(forResources: 2, groups: 2 * create.partitions)
    }

    func validateDeleteQueue(_ name: String) throws(ModelError) {
        let queue = try existingQueue(name)
        if let source = queue.deadLetterSource, queuesByName[source] != nil {
            throw .badRequest("queue '\(name)' is the dead-letter queue of '\(source)'; delete '\(source)' to delete both")
        }
    }

    func validateCreateExchange(_ name: String) throws(ModelError) {
        try ResourceName.validate(name, kind: .exchange, limits: limits)
        if exchangesByName[name] != nil {
            throw .alreadyExists("exchange '\(name)' already exists; delete it first or choose another name")
        }
        guard exchangesByName.count < limits.exchangesMax else {
            throw .badRequest("the catalog already holds the maximum of \(limits.exchangesMax) exchanges; delete some first")
        }
    }

    func validateAddBinding(_ add: AddBinding) throws(ModelError) {
        _ = try existingExchange(add.exchange)
        switch add.destinationType {
        case .topic: _ = try existingTopic(add.destination)
        case .queue: _ = try existingQueue(add.destination)
        }
        let keyBytes = add.bindingKey.utf8
        guard keyBytes.count <= limits.bindingKeyBytesMax, !keyBytes.contains(0) else {
            throw .badRequest("binding_key must be at most \(limits.bindingKeyBytesMax) bytes without NUL")
        }
        let existing = bindingsByExchange[add.exchange] ?? []
        if let duplicate = existing.first(where: {
            $0.destination == add.destination && $0.destinationType == add.destinationType
                && $0.bindingKey == add.bindingKey
        }) {
            throw .alreadyExists("exchange '\(add.exchange)' already binds key '\(ResourceName.printable(add.bindingKey))' to \(add.destinationType.name) '\(add.destination)' as binding \(duplicate.id)")
        }
        guard existing.count < limits.bindingsPerExchangeMax else {
            throw .badRequest("exchange '\(add.exchange)' already has the maximum of \(limits.bindingsPerExchangeMax) bindings; remove some first")
        }
        guard bindingCount < limits.catalogBindingsMax else {
            throw .badRequest("the catalog already holds the maximum of \(limits.catalogBindingsMax) bindings; remove some first")
        }
    }

    func validateRemoveBinding(exchange: String, id: BindingID) throws(ModelError) {
        _ = try existingExchange(exchange)
        guard bindingsByExchange[exchange]?.contains(where: { $0.id == id }) == true else {
            throw .notFound("exchange '\(exchange)' has no binding \(id); list them with GET /v1/exchanges/\(exchange)/bindings")
        }
    }

    func validateCreateSubscription(_ create: CreateSubscription) throws(ModelError) {
        let topic = try existingTopic(create.topic)
        try ResourceName.validate(create.name, kind: .subscription, limits: limits)
        let existing = subscriptionsByTopic[create.topic] ?? [:]
        if existing[create.name] != nil {
            throw .alreadyExists("subscription '\(create.name)' on topic '\(create.topic)' already exists; delete it first or choose another name")
        }
        guard create.startOffsets.count == topic.partitions.count else {
            throw .badRequest("subscription '\(create.name)': \(create.startOffsets.count) start offsets for \(topic.partitions.count) partitions")
        }
        guard existing.count < limits.subscriptionsPerTopicMax else {
            throw .badRequest("topic '\(create.topic)' already has the maximum of \(limits.subscriptionsPerTopicMax) subscriptions; delete some first")
        }
    }

    func validateDeleteSubscription(topic: String, name: String) throws(ModelError) {
        _ = try existingTopic(topic)
        guard subscriptionsByTopic[topic]?[name] != nil else {
            throw .notFound("subscription '\(ResourceName.printable(name))' on topic '\(topic)' does not exist; create it with POST /v1/topics/\(topic)/subscriptions")
        }
    }
}
