import MOMCore
import Raft
import Replication
import SegmentLog
import SystemIO

/// Opens each hosted group's segment log at `data/<topic or queue>/<partition>/` (DESIGN.md §3);
/// `__meta` lives at `data/__meta/0/`. Names were validated by the catalog, so no path escapes
/// the data directory.
final class SegmentGroupLogFactory: GroupLogFactory, @unchecked Sendable {
    let dataDirectory: String
    let fileSystem: any FileSystem
    let limits: Limits
    let clock: any Clock

    init(dataDirectory: String, fileSystem: any FileSystem, limits: Limits, clock: any Clock) {
        self.dataDirectory = dataDirectory
        self.fileSystem = fileSystem
        self.limits = limits
        self.clock = clock
    }

    func directory(for group: GroupID, owner: GroupOwner?) -> String {
        guard let owner else { return "\(dataDirectory)/__meta/\(group.rawValue)" }
        precondition(!owner.name.contains("/") && owner.name != "." && owner.name != "..", "unvalidated resource name")
        return "\(dataDirectory)/\(owner.name)/\(owner.partition.rawValue)"
    }

    func openLog(for group: GroupID, owner: GroupOwner?) throws -> any GroupLog {
        try SegmentGroupLog(directory: directory(for: group, owner: owner), fileSystem: fileSystem, limits: limits, clock: clock)
    }

    /// Renames the directory aside first (one crash-safe step), then deletes its files.
    func removeLog(for group: GroupID, owner: GroupOwner?) throws {
        let path = directory(for: group, owner: owner)
        guard fileSystem.exists(path) else { return }
        let parent = String(path[..<path.lastIndex(of: "/")!])
        let aside = "\(path).g\(group.rawValue).deleted"
        try fileSystem.rename(path, to: aside)
        try fileSystem.syncDirectory(parent)
        try FileSystemCalls.removeTree(aside)
    }
}
