import Auth
import HTTPServer
import MOMCore

/// `…/subscriptions` on a topic: named cursors (DESIGN.md §4). Create and delete are catalog
/// commands; describe, poll and commit fan out to every partition's leader through the
/// per-partition routes (SubscriptionPartitionRoutes.swift) and gather the answers.
extension BrokerAPI {
    func registerSubscriptions(_ router: inout Router) {
        router.add(.post, "/v1/topics/{t}/subscriptions", action: .manageSubscriptions, gate: gate) { request, responder in
            self.createSubscription(request, responder)
        }
        router.add(.get, "/v1/topics/{t}/subscriptions", action: .describe, gate: gate) { request, responder in
            let topic = request.pathParameter("t") ?? ""
            guard let subscriptions = self.node.meta.current.subscriptions(topic: topic) else {
                return _ = responder.send(error: self.node.missing(.notFound("topic '\(ResourceName.printable(topic))' does not exist; create it with POST /v1/topics")))
            }
            responder.send(.json(.ok, .object([("subscriptions", .array(subscriptions.map { .string($0.name) }))])))
        }
        router.add(.get, "/v1/topics/{t}/subscriptions/{s}", action: .describe, gate: gate) { request, responder in self.describeSubscription(request, responder) }
        router.add(.delete, "/v1/topics/{t}/subscriptions/{s}", action: .manageSubscriptions, gate: gate) { request, responder in
            let command = CatalogCommand.deleteSubscription(topic: request.pathParameter("t") ?? "", name: request.pathParameter("s") ?? "")
            self.proposeCatalog(command, request: request, responder: responder) { _ in HTTPResponse(status: .noContent) }
        }
        router.add(.get, "/v1/topics/{t}/subscriptions/{s}/records", action: .read, gate: gate) { request, responder in self.poll(request, responder) }
        router.add(.post, "/v1/topics/{t}/subscriptions/{s}/commit", action: .commit, gate: gate) { request, responder in self.commit(request, responder) }
        registerSubscriptionPartitions(&router)
    }

    /// The base path of a subscription's per-partition routes.
    private static func partitionPath(_ topic: String, _ subscription: String, _ partition: Int) -> String {
        "/v1/topics/\(topic)/subscriptions/\(subscription)/partitions/\(partition)"
    }

    private func createSubscription(_ request: HTTPRequest, _ responder: HTTPResponder) {
        guard metaLeaderOrForward(request, responder) != nil else { return }
        do {
            let topicName = request.pathParameter("t") ?? ""
            let body = try RequestJSON.object(request, limits: limits)
            let name = try RequestJSON.string(body, "name") ?? ""
            let startName = try RequestJSON.string(body, "start", required: false) ?? "latest"
            guard let start = SubscriptionStart(name: startName) else {
                throw HTTPError.badRequest("'start' must be \"earliest\" or \"latest\", not '\(ResourceName.printable(startName))'")
            }
            let catalog = node.meta.current
            let topic = try catalog.existingTopic(topicName)
            // Validate before asking the partitions, so a bad name or a duplicate fails fast.
            try catalog.validate(.createSubscription(CreateSubscription(
                topic: topicName, name: name, start: start, startOffsets: Array(repeating: .zero, count: topic.partitions.count))))
            let gather = PartitionGather(count: topic.partitions.count) { result in
                switch result {
                case .failure(let error):
                    responder.send(error: error)
                case .success(let answers):
                    let field = start == .earliest ? "log_start_offset" : "high_watermark"
                    let offsets = answers.map { Offset($0?[field]?.uint64Value ?? 0) }
                    let command = CatalogCommand.createSubscription(CreateSubscription(topic: topicName, name: name, start: start, startOffsets: offsets))
                    self.proposeCatalog(command, request: request, responder: responder) { outcome in
                        guard let created = outcome.subscription else { return HTTPResponse(error: HTTPError.internalError) }
                        return .json(.created, .object([
                            ("name", .string(created.name)), ("topic", .string(created.topic)), ("start", .string(created.start.name)),
                            ("start_offsets", .array(created.startOffsets.map { .integer(Int64($0.rawValue)) })),
                        ]))
                    }
                }
            }
            for partition in 0..<topic.partitions.count {
                let share = Self.subrequest(.get, "/v1/topics/\(topicName)/partitions/\(partition)", from: request)
                partitionBounds(topic, partition: partition, request: share, responder: gather.responder(for: partition))
            }
        } catch {
            responder.send(routeError: error)
        }
    }

    private func describeSubscription(_ request: HTTPRequest, _ responder: HTTPResponder) {
        do {
            let (topic, resolved) = try resolveSubscription(request)
            let subscription = resolved!
            let gather = PartitionGather(count: topic.partitions.count) { result in
                switch result {
                case .failure(let error): responder.send(error: error)
                case .success(let answers):
                    responder.send(.json(.ok, .object([
                        ("name", .string(subscription.name)), ("topic", .string(topic.name)), ("start", .string(subscription.start.name)),
                        ("partitions", .array(answers.map { $0 ?? .null })),
                    ])))
                }
            }
            for partition in 0..<topic.partitions.count {
                let share = Self.subrequest(.get, Self.partitionPath(topic.name, subscription.name, partition) + "?subscription_id=\(subscription.id)", from: request)
                describeCursor(topic, subscription, partition: partition, request: share, responder: gather.responder(for: partition))
            }
        } catch {
            responder.send(error: error)
        }
    }

    private func commit(_ request: HTTPRequest, _ responder: HTTPResponder) {
        do {
            let (topic, resolved) = try resolveSubscription(request)
            let subscription = resolved!
            let body = try RequestJSON.object(request, limits: limits)
            let positions = try Self.commitPositions(body, partitions: topic.partitions.count)
            let gather = PartitionGather(count: positions.count) { result in
                switch result {
                case .failure(let error): responder.send(error: error)
                case .success(let answers): responder.send(.json(.ok, .object([("offsets", .array(answers.map { $0 ?? .null }))])))
                }
            }
            for (index, position) in positions.enumerated() {
                let path = Self.partitionPath(topic.name, subscription.name, position.partition) + "/commit?subscription_id=\(subscription.id)"
                let share = Self.subrequest(.post, path, body: Array(#"{"offset":\#(position.offset.rawValue)}"#.utf8), from: request)
                commitPartition(topic, subscription, partition: position.partition, offset: position.offset, request: share, responder: gather.responder(for: index))
            }
        } catch {
            responder.send(error: error)
        }
    }

    /// `{"offsets":[{"partition","offset"}]}`: one entry per partition at most, each in range.
    static func commitPositions(_ body: JSONValue, partitions: Int) throws(HTTPError) -> [(partition: Int, offset: Offset)] {
        guard let list = body["offsets"]?.arrayValue else { throw .badRequest("'offsets' must be an array of {\"partition\",\"offset\"}") }
        guard !list.isEmpty else { throw .badRequest("'offsets' is empty; commit at least one partition") }
        guard list.count <= partitions else { throw .badRequest("'offsets' lists \(list.count) entries but the topic has \(partitions) partitions") }
        var seen = Set<Int>()
        var positions: [(partition: Int, offset: Offset)] = []
        for entry in list {
            guard case .object = entry else { throw .badRequest("each entry of 'offsets' must be an object {\"partition\",\"offset\"}") }
            guard let partition = try RequestJSON.integer(entry, "partition", range: 0...Int64(partitions - 1)) else { throw .badRequest("each entry needs 'partition'") }
            guard let offset = try RequestJSON.integer(entry, "offset", range: 0...Int64.max) else { throw .badRequest("each entry needs 'offset'") }
            guard seen.insert(Int(partition)).inserted else { throw .badRequest("partition \(partition) appears twice in 'offsets'") }
            positions.append((Int(partition), Offset(UInt64(offset))))
        }
        return positions
    }
}
