/// One line of a chaos history: an operation's invocation or completion, a final replica read,
/// or the campaign's configuration. The load generator writes these as JSON lines
/// (`HistoryFile`); the checker reads them back. Every field but `type` is optional because
/// each kind of line uses a subset (docs/chaos.md lists which).
///
/// Completion types follow Jepsen: `ok` (the operation took effect), `fail` (it definitely did
/// not take effect, for example a 4xx refusal before anything was proposed) and `info` (unknown:
/// a timeout, a lost connection, a 503 after the write may have been proposed).
public struct HistoryEvent: Codable, Hashable, Sendable {
    /// `invoke`, `ok`, `fail`, `info`, `final`, `final_queue`, `config` or `nemesis`.
    public var type: EventType
    /// The client thread; a process runs one operation at a time.
    public var process: Int?
    /// The operation: `produce`, `fetch`, `enqueue`, `receive` or `ack`; for `nemesis` the fault.
    public var f: String?
    /// Monotonic nanoseconds since the history began.
    public var timeNanoseconds: UInt64?
    /// The node the request went to (or the replica a `final` line read).
    public var node: Int?
    public var topic: String?
    public var queue: String?
    public var partition: Int?
    /// produce ok: the acknowledged offset; fetch: the offset asked for.
    public var offset: UInt64?
    /// produce, enqueue: the record's value (unique per producer and sequence).
    public var value: String?
    public var producerID: UInt64?
    public var sequence: UInt64?
    /// fetch ok: records returned; final: the replica's committed records.
    public var records: [ReadRecord]?
    /// fetch ok: where the next fetch starts.
    public var nextOffset: UInt64?
    /// fetch ok, final: the high watermark the replica reported.
    public var highWatermark: UInt64?
    /// receive ok: the messages handed out.
    public var messages: [QueueDelivery]?
    /// ack: the receipts acknowledged.
    public var receipts: [String]?
    /// fail, info, final: what went wrong.
    public var error: String?
    /// config: the queue's `max_deliveries` (redelivery beyond it is an anomaly).
    public var queueMaxDeliveries: Int?
    /// final_queue: values found in the dead-letter queue after the run.
    public var deadLetters: [String]?

    /// The line kinds of a history.
    public enum EventType: String, Codable, Hashable, Sendable {
        case invoke, ok, fail, info, final
        case finalQueue = "final_queue"
        case config, nemesis
    }

    /// A line of `type` with nothing else set; the fields are filled in by the writer.
    public init(type: EventType) {
        self.type = type
    }

    enum CodingKeys: String, CodingKey {
        case type, process, f, node, topic, queue, partition, offset, value, records, messages, receipts, error
        case timeNanoseconds = "time_ns"
        case producerID = "producer_id"
        case sequence
        case nextOffset = "next_offset"
        case highWatermark = "high_watermark"
        case queueMaxDeliveries = "queue_max_deliveries"
        case deadLetters = "dead_letters"
    }
}

/// A record as a read returned it. `digest` is the hex CRC32C (or any stable digest) of every
/// byte the replica returned for the record (timestamp, key, value, headers): two replicas'
/// prefixes are byte-identical when offsets, values and digests all agree.
public struct ReadRecord: Codable, Hashable, Sendable {
    public var offset: UInt64
    public var value: String
    public var digest: String?

    public init(offset: UInt64, value: String, digest: String? = nil) {
        self.offset = offset
        self.value = value
        self.digest = digest
    }
}

/// One queue delivery as `receive` returned it.
public struct QueueDelivery: Codable, Hashable, Sendable {
    public var receipt: String
    public var partition: Int
    public var offset: UInt64
    public var value: String
    public var deliveryCount: Int

    public init(receipt: String, partition: Int, offset: UInt64, value: String, deliveryCount: Int) {
        self.receipt = receipt
        self.partition = partition
        self.offset = offset
        self.value = value
        self.deliveryCount = deliveryCount
    }

    enum CodingKeys: String, CodingKey {
        case receipt, partition, offset, value
        case deliveryCount = "delivery_count"
    }
}
