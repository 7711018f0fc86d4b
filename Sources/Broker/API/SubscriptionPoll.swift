import HTTPServer
import MOMCore

/// `GET /v1/topics/{t}/subscriptions/{s}/records?max_records&max_bytes&wait_ms`: the next
/// records after the committed cursor of every partition. Each partition's leader is asked at
/// once without waiting; only when all come back empty does a second round long-poll every
/// partition, answered as soon as one has data (bounded by `wait_ms`). Partitions are merged
/// round-robin from a rotating start, so a busy partition cannot starve the others.
///
/// The answer is `{"records":[…],"next_offsets":[{"partition","offset"}]}`: `next_offsets`
/// is a ready-made commit body for everything returned (it also skips past control records).
extension BrokerAPI {
    func poll(_ request: HTTPRequest, _ responder: HTTPResponder) {
        do {
            let (topic, resolved) = try resolveSubscription(request)
            let subscription = resolved!
            let read = try SubscriptionRead.parse(request, limits: limits)
            let rotation = nextRoundRobin()
            pollRound(topic, subscription, read: read, waiting: false, original: request) { result in
                switch result {
                case .failure(let error):
                    responder.send(error: error)
                case .success(let answers) where read.waitMilliseconds > 0 && Self.recordCount(answers) == 0:
                    self.pollRound(topic, subscription, read: read, waiting: true, original: request) { second in
                        responder.send(second.map { Self.merge($0, maxRecords: read.maxRecords, rotation: rotation) } .toResponse())
                    }
                case .success(let answers):
                    responder.send(.json(.ok, Self.merge(answers, maxRecords: read.maxRecords, rotation: rotation)))
                }
            }
        } catch {
            responder.send(error: error)
        }
    }

    private func pollRound(
        _ topic: TopicConfig, _ subscription: SubscriptionConfig, read: SubscriptionRead, waiting: Bool, original: HTTPRequest,
        completion: @escaping @Sendable (Result<[JSONValue?], HTTPError>) -> Void
    ) {
        let wait = waiting ? read.waitMilliseconds : 0
        let share = SubscriptionRead(maxRecords: read.maxRecords, maxBytes: max(1, read.maxBytes / topic.partitions.count), waitMilliseconds: wait)
        let gather = PartitionGather(count: topic.partitions.count, isDecisive: { waiting && !($0["records"]?.arrayValue?.isEmpty ?? true) }, completion: completion)
        for partition in 0..<topic.partitions.count {
            let path = "/v1/topics/\(topic.name)/subscriptions/\(subscription.name)/partitions/\(partition)/records"
                + "?subscription_id=\(subscription.id)&max_records=\(share.maxRecords)&max_bytes=\(share.maxBytes)&wait_ms=\(wait)"
            let subrequest = Self.subrequest(.get, path, from: original)
            pollPartition(topic, subscription, partition: partition, read: share, request: subrequest, responder: gather.responder(for: partition))
        }
    }

    static func recordCount(_ answers: [JSONValue?]) -> Int {
        answers.reduce(0) { $0 + ($1?["records"]?.arrayValue?.count ?? 0) }
    }

    /// Takes records one partition at a time, round-robin from `rotation`, up to `maxRecords`.
    /// A partition's next offset is its leader's `next_offset` when all its records fit, else
    /// the offset after the last one taken; partitions with nothing taken are left out.
    static func merge(_ answers: [JSONValue?], maxRecords: Int, rotation: Int) -> JSONValue {
        let lists = answers.map { $0?["records"]?.arrayValue ?? [] }
        var taken = Array(repeating: 0, count: lists.count)
        var merged: [JSONValue] = []
        var progress = true
        while merged.count < maxRecords && progress {
            progress = false
            for step in 0..<lists.count where merged.count < maxRecords {
                let partition = (rotation + step) % lists.count
                guard taken[partition] < lists[partition].count else { continue }
                merged.append(lists[partition][taken[partition]])
                taken[partition] += 1
                progress = true
            }
        }
        var nextOffsets: [JSONValue] = []
        for (partition, answer) in answers.enumerated() {
            guard let answer else { continue }
            let offset: UInt64?
            if taken[partition] == lists[partition].count {
                offset = answer["next_offset"]?.uint64Value
            } else {
                offset = lists[partition][taken[partition] - 1]["offset"]?.uint64Value.map { $0 + 1 }
            }
            guard let offset, taken[partition] > 0 || offset > (answer["committed_offset"]?.uint64Value ?? 0) else { continue }
            nextOffsets.append(.object([("partition", .integer(Int64(partition))), ("offset", .integer(Int64(offset)))]))
        }
        return .object([("records", .array(merged)), ("next_offsets", .array(nextOffsets))])
    }
}

extension Result where Success == JSONValue, Failure == HTTPError {
    func toResponse() -> HTTPResponse {
        switch self {
        case .success(let value): .json(.ok, value)
        case .failure(let error): HTTPResponse(error: error)
        }
    }
}
