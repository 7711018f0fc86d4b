import MOMCore

/// What a `ZooKeeperCoordinator` remembers: its registration (to restore after an expiry), the
/// last known state (served while ZooKeeper is unreachable), its open watches, and the work the
/// maintenance task still has to do. Kept inside one lock; every field is bounded by the number
/// of watched or read groups and live nodes.
struct ZooKeeperCoordinatorState {
    typealias NodesSnapshot = [NodeID: NodeRegistration]

    /// Work for the maintenance task, coalesced: setting a flag twice is doing it once.
    struct Pending {
        var parents = false
        var registration = false
        var nodes = false
        var groups: Set<GroupID> = []

        var isEmpty: Bool { !parents && !registration && !nodes && groups.isEmpty }
    }

    var registration: (node: NodeID, registration: NodeRegistration)?
    /// The last node listing and the children version it was read at.
    var nodes: (childrenVersion: Int32, nodes: NodesSnapshot)?
    /// The last group listing.
    var groupList: [GroupID]?
    /// Last known membership per group read or watched; `.some(nil)` means "known absent".
    var groups: [GroupID: VersionedMembership?] = [:]
    var nodeWatchers = WatchRegistry<Int, NodesSnapshot>()
    var groupWatchers = WatchRegistry<GroupID, VersionedMembership?>()
    var pending = Pending()
    var retryScheduled = false
    var closed = false

    var watcherCount: Int { nodeWatchers.count + groupWatchers.count }

    /// Records a node listing unless a newer one (higher children version) is already known:
    /// concurrent reads may finish out of order. Publishes it when `publish` is set.
    mutating func remember(nodes snapshot: NodesSnapshot, childrenVersion: Int32, publish: Bool) {
        if let known = nodes, known.childrenVersion > childrenVersion { return }
        nodes = (childrenVersion, snapshot)
        if publish { nodeWatchers.publish(snapshot, for: 0) }
    }

    /// Records a membership read unless a newer version is known. Groups are never deleted, so
    /// "absent" never replaces a known membership (such a read was older). Publishes the result.
    mutating func remember(_ membership: VersionedMembership?, of group: GroupID, publish: Bool) {
        switch (groups[group] ?? nil, membership) {
        case (.some(let known), .some(let read)) where known.version > read.version:
            break
        case (.some, .none):
            break
        default:
            groups[group] = .some(membership)
        }
        if publish, let current = groups[group] { groupWatchers.publish(current, for: group) }
    }

    /// Marks everything a fresh or resumed session must redo: parents, registration, and every
    /// watched subject (a watch set by a request that failed with connection loss is not armed).
    mutating func markAllPending() {
        pending.parents = true
        pending.registration = registration != nil
        pending.nodes = nodeWatchers.count > 0
        pending.groups.formUnion(groupWatchers.keys)
    }
}
