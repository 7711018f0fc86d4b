import MOMCore

/// Where a live node can be reached: its client-facing HTTP address and its node-to-node Raft
/// address, both `host:port`. Stored as the ephemeral `nodes/<id>` znode, so it vanishes with
/// the node's session and "registered" means "alive".
public struct NodeRegistration: Hashable, Sendable, CustomStringConvertible {
    /// The HTTP front's address, `host:port`; the router forwards client calls here.
    public var http: String
    /// The Transport listener's address, `host:port`; Raft peers connect here.
    public var raft: String

    /// Creates a registration from two `host:port` addresses.
    public init(http: String, raft: String) {
        self.http = http
        self.raft = raft
    }

    public var description: String { "{http \(http), raft \(raft)}" }
}

/// Who replicates one Raft group: the voting replicas, the non-voting learners, and an epoch the
/// controller bumps on every reassignment so stale decisions can be told apart.
public struct GroupMembership: Hashable, Sendable, CustomStringConvertible {
    /// The voters, in preference order (the first is the preferred leader).
    public var replicas: [NodeID]
    /// Non-voting members that follow the log (catching up, or reading `__meta`).
    public var learners: [NodeID]
    /// Bumped by whoever changes the membership; never decreases.
    public var epoch: UInt64

    /// Creates a membership; `validate(limits:)` checks it before it is stored.
    public init(replicas: [NodeID], learners: [NodeID] = [], epoch: UInt64) {
        self.replicas = replicas
        self.learners = learners
        self.epoch = epoch
    }

    public var description: String { "{replicas \(replicas), learners \(learners), epoch \(epoch)}" }

    /// Rejects memberships that no Raft group can run with: no voters, duplicates, a node that is
    /// both voter and learner, or more members than `limits.groupMembersMax`.
    public func validate(limits: Limits = .standard) throws(CoordinationError) {
        if replicas.isEmpty {
            throw .invalidArgument(reason: "a group needs at least one replica")
        }
        if replicas.count + learners.count > limits.groupMembersMax {
            throw .invalidArgument(
                reason: "\(replicas.count + learners.count) members exceed groupMembersMax \(limits.groupMembersMax)")
        }
        let voters = Set(replicas)
        let followers = Set(learners)
        if voters.count != replicas.count || followers.count != learners.count {
            throw .invalidArgument(reason: "membership \(self) lists a node twice")
        }
        if !voters.isDisjoint(with: followers) {
            throw .invalidArgument(reason: "membership \(self) lists a node as both replica and learner")
        }
    }
}

/// The version of a group's membership record, used for compare-and-set. For ZooKeeper it is the
/// znode's data version: 0 when created, plus one per successful compare-and-set.
public struct MembershipVersion: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The znode data version.
    public let rawValue: Int32
    /// Wraps a znode data version.
    @inlinable public init(_ rawValue: Int32) { self.rawValue = rawValue }
    @inlinable public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    /// The version of a record that was just created.
    public static let initial = MembershipVersion(0)
    public var description: String { "v\(rawValue)" }
}

/// A membership together with the version to pass to the next compare-and-set.
public struct VersionedMembership: Hashable, Sendable, CustomStringConvertible {
    /// The stored membership.
    public let membership: GroupMembership
    /// Its version; a compare-and-set succeeds only against this exact version.
    public let version: MembershipVersion

    /// Pairs a membership with its version.
    public init(membership: GroupMembership, version: MembershipVersion) {
        self.membership = membership
        self.version = version
    }

    public var description: String { "\(membership)@\(version)" }
}

/// The coordinator's link to its store, as a replication host needs to see it: is what I read
/// current, and is my registration alive?
public enum CoordinatorSessionState: Hashable, Sendable {
    /// Never connected yet; reads go to the store and wait for the connection.
    case connecting
    /// Connected with a live session: reads are current, the registration exists.
    case connected
    /// The connection dropped but the session may survive: reads come from the last known state.
    case disconnected
    /// The store expired the session (ephemeral registration gone); a new session is being made,
    /// after which the registration and watches are restored automatically.
    case expired
    /// `close()` was called; every operation throws `CoordinationError.closed`.
    case closed
}

/// A thing in the coordination store, named in errors.
public enum CoordinationResource: Hashable, Sendable, CustomStringConvertible {
    /// A node's registration, `nodes/<id>`.
    case node(NodeID)
    /// A group's membership, `groups/<id>`.
    case group(GroupID)

    public var description: String {
        switch self {
        case .node(let node): "node \(node.rawValue)"
        case .group(let group): "group \(group.rawValue)"
        }
    }
}
