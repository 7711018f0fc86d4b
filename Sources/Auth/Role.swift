/// What a user is for. Each user has exactly one role, stored with the user and carried in the
/// token's `role` claim, so every node authorizes the same way without a lookup.
public enum Role: String, Sendable, CaseIterable, Codable {
    /// Operates the broker: creates and deletes resources and users, and may also produce and consume.
    case admin
    /// Writes messages: publishes to topics, queues and exchanges.
    case producer
    /// Reads messages: fetches, receives, acknowledges and commits offsets.
    case consumer

    /// The role names, for help and error text ("admin|producer|consumer").
    public static let namesJoined = allCases.map(\.rawValue).joined(separator: "|")
}

/// Everything a caller can ask the broker to do that is gated by role. The HTTP router maps each
/// route to one action; `authorize(_:_:)` decides.
public enum Action: String, Sendable, CaseIterable {
    /// Create or delete topics (`POST/DELETE /v1/topics`).
    case manageTopics
    /// Create or delete queues.
    case manageQueues
    /// Create or delete exchanges.
    case manageExchanges
    /// Create or delete exchange bindings.
    case manageBindings
    /// Create or delete topic subscriptions (named cursors).
    case manageSubscriptions
    /// Add, remove or change users.
    case manageUsers
    /// Change the cluster itself: `__meta`'s voters (`POST /v1/cluster/meta/reassign`).
    case manageCluster
    /// List or describe topics, queues, exchanges, bindings and subscriptions (metadata, not data).
    case describe
    /// Append records to a topic, send to a queue, or publish to an exchange.
    case publish
    /// Fetch records from a topic partition or a subscription.
    case read
    /// Receive messages from a queue.
    case receive
    /// Acknowledge received queue messages.
    case ack
    /// Commit a subscription's offsets.
    case commit
    /// See nodes, groups, leaders and lag (`GET /v1/cluster`).
    case viewCluster
    /// See metrics through an authenticated route. (`GET /metrics` itself is open per DESIGN §4.)
    case viewMetrics
}

/// Whether `role` may perform `action`. The table, and why:
///
/// - `admin` may do everything.
/// - `producer` may `publish`, plus `describe` and `viewCluster`: a producer must see which topics,
///   partitions and exchanges exist, and where leaders are, to publish sensibly.
/// - `consumer` may `read`, `receive`, `ack` and `commit`, plus `describe` and `viewCluster` for
///   the same reason (partition counts, high watermarks, lag).
/// - Creating and deleting anything, users included, and `viewMetrics` are for `admin` only:
///   changing the shape of the broker is an operator's decision, and least privilege is the
///   default for the rest. Every denial becomes 403.
public func authorize(_ role: Role, _ action: Action) -> Bool {
    switch role {
    case .admin:
        return true
    case .producer:
        switch action {
        case .publish, .describe, .viewCluster: return true
        default: return false
        }
    case .consumer:
        switch action {
        case .read, .receive, .ack, .commit, .describe, .viewCluster: return true
        default: return false
        }
    }
}
