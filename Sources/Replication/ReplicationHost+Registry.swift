import MOMCore

/// Which groups a pass looks at. With 1,000 mostly idle groups, asking every group for a Ready
/// on every pass (a pass runs for each message batch, not only each tick) and sorting the
/// dictionary's keys for every tick were most of an idle node's CPU (docs/performance.md §11).
/// So the loop keeps the groups in id order once, and remembers which groups something happened
/// to since the last pass: only those can have a Ready. A tick touches every group.
///
/// A path that changes a group's Raft node without touching it delays that group's Ready until
/// the next tick (at most `tickMilliseconds`); it can never lose it.
extension ReplicationHost {
    /// Loop thread: adds a group, keeping `orderedGroups` sorted by id.
    func insertGroup(_ replica: GroupReplica) {
        precondition(groups[replica.id] == nil, "group \(replica.id) added twice")
        groups[replica.id] = replica
        let position = orderedGroups.partitioningIndex { $0.id > replica.id }
        orderedGroups.insert(replica, at: position)
        touch(replica)
    }

    /// Loop thread: forgets a group (removed, or stopped after a storage error).
    func removeGroupEntry(_ id: GroupID) {
        guard groups.removeValue(forKey: id) != nil else { return }
        orderedGroups.removeAll { $0.id == id }
    }

    /// Loop thread: something happened to `group`; the next pass asks it for a Ready.
    func touch(_ group: GroupReplica) {
        guard !group.touched else { return }
        group.touched = true
        touchedGroups.append(group)
    }

    /// Loop thread: the next pass asks every group (after a tick).
    func touchEveryGroup() { everyGroupTouched = true }

    /// Loop thread: the groups to ask for a Ready in this pass, in id order, and clears the marks.
    func takeTouchedGroups() -> [GroupReplica] {
        for group in touchedGroups { group.touched = false }
        defer {
            touchedGroups.removeAll(keepingCapacity: true)
            everyGroupTouched = false
        }
        if everyGroupTouched { return orderedGroups }
        // A group removed since it was touched is not asked.
        return touchedGroups.filter { groups[$0.id] === $0 }.sorted { $0.id < $1.id }
    }
}

extension Array {
    /// The first index whose element satisfies `predicate`, for a predicate that is false and
    /// then true along the array (binary search).
    func partitioningIndex(where predicate: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if predicate(self[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }
}
