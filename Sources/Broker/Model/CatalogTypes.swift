import MOMCore

/// How an exchange picks destinations for a routing key (AMQP's three classic types).
enum ExchangeType: UInt8, Hashable, Sendable, CaseIterable {
    case direct = 1, topic, fanout

    /// The REST spelling (`"direct"`, `"topic"`, `"fanout"`).
    var name: String {
        switch self {
        case .direct: "direct"
        case .topic: "topic"
        case .fanout: "fanout"
        }
    }

    init?(name: String) {
        guard let match = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }
}

/// What a binding delivers to.
enum DestinationType: UInt8, Hashable, Sendable, CaseIterable {
    case topic = 1, queue

    var name: String { self == .topic ? "topic" : "queue" }

    init?(name: String) {
        guard let match = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }
}

/// Where a new subscription's cursor starts.
enum SubscriptionStart: UInt8, Hashable, Sendable, CaseIterable {
    case earliest = 1, latest

    var name: String { self == .earliest ? "earliest" : "latest" }

    init?(name: String) {
        guard let match = Self.allCases.first(where: { $0.name == name }) else { return nil }
        self = match
    }
}

/// Identifies a binding within the catalog; allocated by the catalog when the binding is applied.
struct BindingID: Hashable, Comparable, Sendable, CustomStringConvertible {
    let rawValue: UInt64
    init(_ rawValue: UInt64) { self.rawValue = rawValue }
    static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    var description: String { "\(rawValue)" }
}

/// One partition's Raft group and replica set. `replicas[0]` is the preferred leader.
struct PartitionPlacement: Hashable, Sendable {
    let partition: PartitionID
    let group: GroupID
    /// The replica set the partition is (or is being moved) to.
    let replicas: [NodeID]
    /// The voters the group was created with: the configuration every replica's log starts
    /// from at index 0. A replica added later bootstraps with it too, and learns every change
    /// since from the leader's log, so it never invents a configuration of its own.
    let initialReplicas: [NodeID]

    init(partition: PartitionID, group: GroupID, replicas: [NodeID], initialReplicas: [NodeID]? = nil) {
        self.partition = partition
        self.group = group
        self.replicas = replicas
        self.initialReplicas = initialReplicas ?? replicas
    }
}

/// A raw partitioned log, read by offset.
struct TopicConfig: Hashable, Sendable {
    let name: String
    let replicationFactor: Int
    let retentionMilliseconds: UInt64?
    let retentionBytes: UInt64?
    /// Indexed by partition number. A `var` so a reassignment replaces one placement in a copy.
    var partitions: [PartitionPlacement]
}

/// A competing-consumers queue. Its dead-letter queue is an ordinary queue named
/// `<name>.dead-letter`, linked both ways so deleting the source deletes it too.
struct QueueConfig: Hashable, Sendable {
    let name: String
    let replicationFactor: Int
    let ackTimeoutMilliseconds: UInt64
    let maxDeliveries: Int?
    /// Indexed by partition number. A `var` so a reassignment replaces one placement in a copy.
    var partitions: [PartitionPlacement]
    /// Set on a queue with `maxDeliveries`: where exhausted messages go.
    let deadLetterQueue: String?
    /// Set on a dead-letter queue: the queue it serves.
    let deadLetterSource: String?
}

/// A named router of messages to topics and queues.
struct ExchangeConfig: Hashable, Sendable {
    let name: String
    let type: ExchangeType
}

/// An exchange → destination rule.
struct Binding: Hashable, Sendable {
    let id: BindingID
    let exchange: String
    let destination: String
    let destinationType: DestinationType
    let bindingKey: String
}

/// A named cursor on a topic. `id` is unique over the catalog's life, so cursor records written
/// for a deleted subscription never apply to a later one with the same name.
struct SubscriptionConfig: Hashable, Sendable {
    let topic: String
    let name: String
    let id: UInt64
    let start: SubscriptionStart
    /// The first offset to read per partition, resolved by the proposer from `start`
    /// (log start offsets for earliest, high watermarks for latest).
    let startOffsets: [Offset]
}

/// What a partition group belongs to.
struct GroupOwner: Hashable, Sendable {
    let destinationType: DestinationType
    let name: String
    let partition: PartitionID
}

/// A Raft group the replication host must run, and on which nodes.
struct GroupAssignment: Hashable, Sendable {
    let group: GroupID
    let owner: GroupOwner
    /// Where the group should run; during a reassignment the Raft configuration converges to it
    /// one membership change at a time.
    let replicas: [NodeID]
    /// The voters it was created with (`PartitionPlacement.initialReplicas`).
    let initialReplicas: [NodeID]

    init(group: GroupID, owner: GroupOwner, replicas: [NodeID], initialReplicas: [NodeID]? = nil) {
        self.group = group
        self.owner = owner
        self.replicas = replicas
        self.initialReplicas = initialReplicas ?? replicas
    }
}

/// What applying a command changed, beyond the catalog itself: the replication host creates
/// and removes groups from this, and handlers read allocated IDs from it.
struct CatalogOutcome: Hashable, Sendable {
    var createdGroups: [GroupAssignment] = []
    var removedGroups: [GroupID] = []
    /// Groups given a new target replica set (nodes added to it start a replica).
    var reassignedGroups: [GroupAssignment] = []
    var binding: Binding?
    var subscription: SubscriptionConfig?
    /// Subscriptions removed (directly or because their topic went).
    var removedSubscriptions: [SubscriptionConfig] = []
    /// Bindings removed (directly or because their exchange or destination went).
    var removedBindings: [Binding] = []
}
