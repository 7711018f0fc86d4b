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
    /// The last node listing.
    var nodes: NodesSnapshot?
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

    // Who writes the cache: while a subject is watched, only the maintenance task's refreshes
    // (one at a time, so in ZooKeeper order) write it and publish it. Otherwise any direct read
    // or write does. So concurrent reads finishing out of order cannot put an older snapshot in
    // front of watchers, and no version or zxid comparison is needed (those restart from zero
    // when a znode is deleted and created again).

    /// Records a node listing from a refresh (`fromWatch`, published) or a direct read.
    mutating func remember(nodes snapshot: NodesSnapshot, fromWatch: Bool) {
        if fromWatch {
            nodes = snapshot
            nodeWatchers.publish(snapshot, for: 0)
        } else if nodeWatchers.count == 0 {
            nodes = snapshot
        }
    }

    /// Records a membership (nil: absent) from a refresh (`fromWatch`, published) or a direct
    /// read or write.
    mutating func remember(_ membership: VersionedMembership?, of group: GroupID, fromWatch: Bool) {
        if fromWatch {
            groups[group] = .some(membership)
            groupWatchers.publish(membership, for: group)
        } else if !groupWatchers.contains(group) {
            groups[group] = .some(membership)
        }
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
