/// Every bound in MOM, in one place, units last (STYLE.md habit 5).
/// A value here is a default; components take a `Limits` so tests can shrink them.
public struct Limits: Sendable {
    // Segment log
    public var segmentBytesMax: UInt64 = 1 << 30
    public var segmentAgeMillisecondsMax: UInt64 = 7 * 24 * 3_600_000
    public var indexIntervalBytes: UInt64 = 4096
    public var batchRecordsMax: Int = 65_536
    public var batchBytesMax: Int = 16 << 20
    public var recordKeyBytesMax: Int = 64 << 10
    public var recordValueBytesMax: Int = 8 << 20
    public var recordHeadersMax: Int = 64
    public var readBytesMax: Int = 64 << 20

    // HTTP front
    public var requestHeaderBytesMax: Int = 16 << 10
    public var requestBodyBytesMax: Int = 32 << 20
    public var connectionsMax: Int = 4096
    public var requestsInFlightMax: Int = 8192
    public var idleTimeoutMilliseconds: UInt64 = 60_000
    public var headerReadTimeoutMilliseconds: UInt64 = 10_000
    public var longPollWaitMillisecondsMax: UInt64 = 30_000

    // Transport
    public var frameBytesMax: Int = 64 << 20
    public var peerSendQueueBytesMax: Int = 256 << 20
    public var peerSendQueueEnvelopesMax: Int = 65_536

    // Raft
    public var raftInflightMessagesMax: Int = 256
    public var raftMessageBytesMax: Int = 4 << 20
    public var raftUncommittedBytesMax: Int = 512 << 20

    // Names (topics, queues, exchanges): Kafka's limit.
    public var resourceNameBytesMax: Int = 249

    // Broker model: catalog, queues, producers (Sources/Broker/Model).
    public var partitionsPerResourceMax: Int = 1024
    public var replicationFactorMax: Int = 7
    public var catalogResourcesMax: Int = 10_000
    public var catalogGroupsMax: Int = 100_000
    public var exchangesMax: Int = 10_000
    public var bindingsPerExchangeMax: Int = 10_000
    public var catalogBindingsMax: Int = 100_000
    public var subscriptionsPerTopicMax: Int = 1_000
    public var bindingKeyBytesMax: Int = 255
    public var recordHeaderNameBytesMax: Int = 255
    public var queueAckTimeoutMillisecondsMax: UInt64 = 43_200_000
    public var queueMaxDeliveriesMax: Int = 1_000
    public var queueBatchMessagesMax: Int = 1_000
    public var queueTrackedMessagesMax: Int = 120_000
    public var producersPerPartitionMax: Int = 10_000
    public var producerBatchesRememberedMax: Int = 5

    // Coordination (ZooKeeper registry and group membership)
    public var coordinationValueBytesMax: Int = 64 << 10
    public var coordinationChildrenMax: Int = 100_000
    public var coordinationWatchersMax: Int = 65_536
    public var groupMembersMax: Int = 64

    public init() {}

    /// The production defaults.
    public static let standard = Limits()
}
