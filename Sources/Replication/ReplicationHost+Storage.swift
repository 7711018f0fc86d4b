import MOMCore

/// How much disk one hosted group's log takes: what `/metrics` reports per group.
public struct GroupStorageStatus: Sendable, Equatable {
    public var group: GroupID
    /// Segment files of the log (each with its sparse index beside it).
    public var segmentCount: Int
    /// Bytes of the segment files (indexes and state files excluded).
    public var segmentBytes: UInt64
}

extension ReplicationHost {
    /// Reads every hosted group's segment count and size on the loop thread (segment logs are
    /// loop-only state) and hands them to `completion` there. The read is in-memory bookkeeping,
    /// O(groups) with no I/O, so it holds the loop for microseconds; `completion` must not block
    /// either (render elsewhere). Returns false, without calling `completion`, when the inbox is
    /// full. Groups on a log other than `SegmentGroupLog` (in-memory tests) are left out.
    public func collectStorage(_ completion: @escaping @Sendable ([GroupStorageStatus]) -> Void) -> Bool {
        onLoop { host in
            var statuses: [GroupStorageStatus] = []
            statuses.reserveCapacity(host.groups.count)
            for (id, replica) in host.groups {
                guard let log = replica.log as? SegmentGroupLog else { continue }
                statuses.append(GroupStorageStatus(group: id, segmentCount: log.log.segmentCount, segmentBytes: log.log.sizeBytes))
            }
            statuses.sort { $0.group < $1.group }
            completion(statuses)
        }
    }
}
