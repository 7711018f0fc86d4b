import MOMCore

/// A record of the `__meta` Raft group. Every node applies them in log order to its `Catalog`,
/// as Kafka's KRaft brokers replay the metadata log. Commands carry what the proposer decided
/// (replica placement, resolved start offsets); IDs (groups, bindings, subscriptions) are
/// allocated by the catalog at apply time, so concurrent proposers can never collide.
enum CatalogCommand: Hashable, Sendable {
    case createTopic(CreateTopic)
    case deleteTopic(name: String)
    case createQueue(CreateQueue)
    case deleteQueue(name: String)
    case createExchange(name: String, type: ExchangeType)
    case deleteExchange(name: String)
    case addBinding(AddBinding)
    case removeBinding(exchange: String, id: BindingID)
    case createSubscription(CreateSubscription)
    case deleteSubscription(topic: String, name: String)
    case reassignPartition(ReassignPartition)
    /// `POST /v1/cluster/meta/reassign`: `__meta`'s target voters. The `__meta` leader moves
    /// its configuration there one single-server change at a time, like a partition's.
    case reassignMeta(voters: [NodeID])
}

/// `POST /v1/{topics|queues}/{name}/partitions/{p}/reassign`: the partition's new target
/// replica set. The group's leader moves its Raft configuration there one single-server step
/// at a time (`ReassignmentPlan`); the catalog only records where it is going.
struct ReassignPartition: Hashable, Sendable {
    let destinationType: DestinationType
    let name: String
    let partition: PartitionID
    let replicas: [NodeID]
}

/// `POST /v1/topics`, with replicas chosen by `Placement`.
struct CreateTopic: Hashable, Sendable {
    let name: String
    let partitions: Int
    let replicationFactor: Int
    let retentionMilliseconds: UInt64?
    let retentionBytes: UInt64?
    /// One replica list per partition; the first replica is the preferred leader.
    let replicas: [[NodeID]]
}

/// `POST /v1/queues`. With `maxDeliveries`, `deadLetterReplicas` places `<name>.dead-letter`
/// (same partition count and replication factor); without it, it must be empty.
struct CreateQueue: Hashable, Sendable {
    static let defaultAckTimeoutMilliseconds: UInt64 = 30_000

    let name: String
    let partitions: Int
    let replicationFactor: Int
    let ackTimeoutMilliseconds: UInt64
    let maxDeliveries: Int?
    let replicas: [[NodeID]]
    let deadLetterReplicas: [[NodeID]]
}

/// `POST /v1/exchanges/{x}/bindings`.
struct AddBinding: Hashable, Sendable {
    let exchange: String
    let destination: String
    let destinationType: DestinationType
    let bindingKey: String
}

/// `POST /v1/topics/{t}/subscriptions`, with one resolved start offset per partition.
struct CreateSubscription: Hashable, Sendable {
    let topic: String
    let name: String
    let start: SubscriptionStart
    let startOffsets: [Offset]
}
