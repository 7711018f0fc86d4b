import MOMCore
import Raft
import SystemIO
import Testing
@testable import Replication

/// A one-node host whose groups are segment logs at `/data/g<id>` on a simulated file system,
/// each elected leader before this returns. Syncs stay on the loop thread (syncWorkers 0),
/// as the single-threaded simulated file system needs.
func startSingleNodeHost(
    _ node: NodeID, groups: [GroupID], fileSystem: SimulatedFileSystem, fileSystemSync: (any FileSystemSync)? = nil
) async throws -> ReplicationHost {
    var settings = ReplicationHost.Settings()
    settings.tickMilliseconds = 10
    settings.syncWorkers = 0
    settings.fileSystemSync = fileSystemSync
    let host = ReplicationHost(nodeID: node, link: LocalLinks().link(for: node), clock: SystemClock(), randomSeed: 1, settings: settings)
    host.start()
    for group in groups {
        let log = try SegmentGroupLog(directory: "/data/g\(group.rawValue)", fileSystem: fileSystem, limits: .standard, clock: SystemClock())
        let added = Outcome<Bool>()
        host.addGroup(group, log: log, stateMachine: RecordingStateMachine(), bootstrap: Configuration(voters: [node])) { added.set((try? $0.get()) != nil) }
        #expect(await added.wait() == true)
        #expect(await eventually { host.status(of: group)?.role == .leader })
    }
    return host
}
