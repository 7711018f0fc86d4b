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
    /// The group-commit syncfs, when on: every log must live on the file system it syncs.
    let fileSystemSync: (any FileSystemSync)?
    /// How much of each log's durable tail stays in the page cache (`--page-cache-tail-mb`).
    let cachedTailBytes: UInt64?

    init(
        dataDirectory: String, fileSystem: any FileSystem, limits: Limits, clock: any Clock, fileSystemSync: (any FileSystemSync)? = nil,
        cachedTailBytes: UInt64? = SegmentLog.defaultCachedTailBytes
    ) {
        self.dataDirectory = dataDirectory
        self.fileSystem = fileSystem
        self.limits = limits
        self.clock = clock
        self.fileSystemSync = fileSystemSync
        self.cachedTailBytes = cachedTailBytes
    }

    /// A log directory mounted elsewhere (another disk under the data directory) would not be
    /// covered by the group-commit syncfs: its records would be acked without being on disk.
    struct OutsideSyncedFileSystem: Error, CustomStringConvertible {
        let directory: String
        var description: String {
            "\(directory) is not on the data directory's file system, which --group-commit syncfs syncs; move it back or run with --group-commit fdatasync"
        }
    }

    func directory(for group: GroupID, owner: GroupOwner?) -> String {
        guard let owner else { return "\(dataDirectory)/__meta/\(group.rawValue)" }
        precondition(!owner.name.contains("/") && owner.name != "." && owner.name != "..", "unvalidated resource name")
        return "\(dataDirectory)/\(owner.name)/\(owner.partition.rawValue)"
    }

    func openLog(for group: GroupID, owner: GroupOwner?) throws -> any GroupLog {
        let path = directory(for: group, owner: owner)
        // The replication host makes a new log, its bootstrap and its terms and votes durable
        // together with the other groups of the same loop pass (docs/performance.md §22).
        let log = try SegmentGroupLog(directory: path, fileSystem: fileSystem, limits: limits, clock: clock, cachedTailBytes: cachedTailBytes,
                                      defersSyncs: true)
        if let fileSystemSync, !fileSystemSync.covers(path) { throw OutsideSyncedFileSystem(directory: path) }
        return log
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
