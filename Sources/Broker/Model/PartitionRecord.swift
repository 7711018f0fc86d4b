import MOMCore

/// One entry of a partition's Raft group, which is also one record of its segment log
/// (one Raft entry == one record). Data records are what producers wrote; control records carry
/// consumer state (subscription cursors, queue claims and acks) so that state lives in the same
/// group as the data and fails over with it. Readers of a topic never see control records, so
/// fetched offsets may have gaps, as Kafka's control batches leave.
enum PartitionRecord: Hashable, Sendable {
    /// A message written by a producer.
    case data(DataRecord)
    /// The entry a new Raft leader appends to commit its term. Empty entry data decodes as this.
    case noop
    /// A subscription's cursor moved: the next offset it will read in this partition.
    case subscriptionCommit(SubscriptionCommit)
    /// A subscription was deleted: drop its cursor here.
    case subscriptionDelete(SubscriptionDelete)
    /// The queue leader handed messages to one receiver until a deadline.
    case queueClaim(QueueClaim)
    /// Receivers acknowledged claimed messages.
    case queueAck(QueueAck)
    /// Messages that ran out of deliveries were copied to the dead-letter queue.
    case queueDeadLettered(QueueDeadLettered)

    /// Control records carry broker state; fetches skip them.
    var isControl: Bool {
        if case .data = self { return false }
        return true
    }
}

/// A committed partition record as applying it needs it: a data record's key, value and
/// headers play no part in the state machines, so they are checked but not copied.
enum AppliedRecord: Equatable, Sendable {
    case data(producer: ProducerStamp?)
    case control(PartitionRecord)

    var isControl: Bool {
        if case .data = self { return false }
        return true
    }
}

/// Who wrote a data record, for idempotent retries: a producer's request has one `sequence`,
/// and each of its records carries its position in that request.
struct ProducerStamp: Hashable, Sendable {
    let producerID: UInt64
    let sequence: UInt64
    let indexInBatch: UInt32
}

/// A producer's message. The leader stamps `timestampMilliseconds` so replicas agree.
struct DataRecord: Hashable, Sendable {
    var timestampMilliseconds: UInt64
    var key: [UInt8]?
    var value: [UInt8]
    var headers: [Header]
    var producer: ProducerStamp?

    init(
        timestampMilliseconds: UInt64, key: [UInt8]? = nil, value: [UInt8],
        headers: [Header] = [], producer: ProducerStamp? = nil
    ) {
        self.timestampMilliseconds = timestampMilliseconds
        self.key = key
        self.value = value
        self.headers = headers
        self.producer = producer
    }
}

/// A record header: a UTF-8 name and opaque bytes, as in Kafka.
struct Header: Hashable, Sendable {
    let name: String
    let value: [UInt8]
    init(_ name: String, _ value: [UInt8]) {
        self.name = name
        self.value = value
    }
}

/// A subscription's committed position in this partition. `subscriptionID` is the catalog's
/// incarnation number, so a commit from before a delete-and-recreate cannot move the new cursor.
struct SubscriptionCommit: Hashable, Sendable {
    let subscription: String
    let subscriptionID: UInt64
    /// The next offset the subscription will read (Kafka's committed-offset convention).
    let offset: Offset
}

/// Drops a subscription incarnation's cursor.
struct SubscriptionDelete: Hashable, Sendable {
    let subscription: String
    let subscriptionID: UInt64
}

/// Messages handed to one receiver. `claimID` is a leader-chosen random nonce that goes into the
/// receipts, so a receipt cannot be forged by guessing. Both times are stamped by the leader.
struct QueueClaim: Hashable, Sendable {
    let claimID: UInt64
    let claimedAtMilliseconds: UInt64
    let deadlineMilliseconds: UInt64
    /// Offsets of data records, ascending, without duplicates.
    let offsets: [Offset]
}

/// One receipt being acknowledged: the message and the claim that delivered it.
struct QueueAckEntry: Hashable, Sendable {
    let offset: Offset
    let claimID: UInt64
}

/// Acknowledgements, applied in order.
struct QueueAck: Hashable, Sendable {
    let entries: [QueueAckEntry]
}

/// Messages that now live in `<queue>.dead-letter` and are done here. The leader stamps the
/// time, so every replica checks the same "claim has expired" condition.
struct QueueDeadLettered: Hashable, Sendable {
    let deadLetteredAtMilliseconds: UInt64
    /// Ascending, without duplicates.
    let offsets: [Offset]
}
