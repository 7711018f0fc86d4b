import MOMCore
import Raft
import Replication

/// Opens the durable log of a group hosted on this node. The production factory opens a
/// segment log under `data/<topic>/<partition>/`; tests use memory.
protocol GroupLogFactory: AnyObject, Sendable {
    func openLog(for group: GroupID, owner: GroupOwner?) throws -> any GroupLog
    /// Removes a group's data after its topic or queue was deleted (crash-safe rename first).
    func removeLog(for group: GroupID, owner: GroupOwner?) throws
}

/// Memory-backed logs, for in-process tests of the node.
final class MemoryGroupLogFactory: GroupLogFactory, @unchecked Sendable {
    func openLog(for group: GroupID, owner: GroupOwner?) throws -> any GroupLog { MemoryGroupLog() }
    func removeLog(for group: GroupID, owner: GroupOwner?) throws {}
}
