import MOMCore
import SystemIO
import Testing
@testable import Broker

/// `--group-commit`: syncfs by default, fdatasync on request, anything else refused by name.
@Suite struct GroupCommitConfigTests {
    static func arguments(_ directory: String) -> [String] {
        ["--node-id", "1", "--data-dir", directory, "--http-listen", "127.0.0.1:1", "--raft-listen", "127.0.0.1:2"]
    }

    @Test func syncfsIsTheDefaultAndOpensTheDataDirectory() throws {
        let parent = try FileSystemCalls.makeTemporaryDirectory(prefix: "mom-group-commit-")
        defer { try? FileSystemCalls.removeTree(parent) }
        let config = try NodeConfig.parse(arguments: Self.arguments("\(parent)/data/node1"))
        #expect(config.groupCommit == .syncfs)
        let sync = try NodeServer.makeFileSystemSync(config, metrics: NodeMetrics(clock: SystemClock()), clock: SystemClock())
        #expect(sync != nil)
        #expect(FileSystemCalls.exists("\(parent)/data/node1"), "the data directory is made before it is opened")
        try sync?.sync()
    }

    @Test func fdatasyncModeHasNoFileSystemSync() throws {
        let config = try NodeConfig.parse(arguments: Self.arguments("/nonexistent") + ["--group-commit", "fdatasync"])
        #expect(config.groupCommit == .fdatasync)
        #expect(try NodeServer.makeFileSystemSync(config, metrics: NodeMetrics(clock: SystemClock()), clock: SystemClock()) == nil)
    }

    @Test func theTransportSharesTheLoopThreadByDefault() throws {
        #expect(try NodeConfig.parse(arguments: Self.arguments("/nonexistent")).transportThread == .shared)
        #expect(try NodeConfig.parse(arguments: Self.arguments("/nonexistent") + ["--transport-thread", "own"]).transportThread == .own)
        #expect(throws: NodeConfig.Invalid(message: "--transport-thread takes shared or own, not 'both'")) {
            try NodeConfig.parse(arguments: Self.arguments("/nonexistent") + ["--transport-thread", "both"])
        }
    }

    @Test func theHTTPServerSharesTheLoopThreadByDefaultWhenTheTransportDoes() throws {
        let base = Self.arguments("/nonexistent")
        #expect(try NodeConfig.parse(arguments: base).httpThread == .shared)
        #expect(try NodeConfig.parse(arguments: base + ["--http-thread", "own"]).httpThread == .own)
        #expect(try NodeConfig.parse(arguments: base + ["--transport-thread", "own"]).httpThread == .own)
        #expect(throws: NodeConfig.Invalid(message: "--http-thread shared needs --transport-thread shared (the HTTP server joins the thread the transport shares with the replication loop)")) {
            try NodeConfig.parse(arguments: base + ["--transport-thread", "own", "--http-thread", "shared"])
        }
        #expect(throws: NodeConfig.Invalid(message: "--http-thread takes shared or own, not 'both'")) {
            try NodeConfig.parse(arguments: base + ["--http-thread", "both"])
        }
    }

    @Test func fetchAnswersAreEncodedOnTheLoopUnlessOffloadIsAsked() throws {
        let base = Self.arguments("/nonexistent")
        #expect(try NodeConfig.parse(arguments: base).fetchEncoding == .inline)
        #expect(try NodeConfig.parse(arguments: base + ["--fetch-encoding", "offload"]).fetchEncoding == .offload)
        #expect(throws: NodeConfig.Invalid(message: "--fetch-encoding takes offload or inline, not 'later'")) {
            try NodeConfig.parse(arguments: base + ["--fetch-encoding", "later"])
        }
    }

    @Test func thePageCacheTailIsUnboundedByDefaultAndBoundedOnRequest() throws {
        #expect(try NodeConfig.parse(arguments: Self.arguments("/nonexistent")).pageCacheTailBytes == nil)
        #expect(try NodeConfig.parse(arguments: Self.arguments("/nonexistent") + ["--page-cache-tail-mb", "128"]).pageCacheTailBytes == 128 << 20)
        #expect(try NodeConfig.parse(arguments: Self.arguments("/nonexistent") + ["--page-cache-tail-mb", "all"]).pageCacheTailBytes == nil)
        for bad in ["0", "-1", "65537", "lots"] {
            #expect(throws: NodeConfig.Invalid(message: "--page-cache-tail-mb takes 1…65536 (MiB) or all, not '\(bad)'")) {
                try NodeConfig.parse(arguments: Self.arguments("/nonexistent") + ["--page-cache-tail-mb", bad])
            }
        }
    }

    @Test func storageWritesAreAdaptiveByDefaultAndAsyncOrSyncOnRequest() throws {
        #expect(try NodeConfig.parse(arguments: Self.arguments("/nonexistent")).storageWrites == .adaptive)
        #expect(try NodeConfig.parse(arguments: Self.arguments("/nonexistent") + ["--storage-writes", "async"]).storageWrites == .async)
        #expect(try NodeConfig.parse(arguments: Self.arguments("/nonexistent") + ["--storage-writes", "sync"]).storageWrites == .sync)
        #expect(throws: NodeConfig.Invalid(message: "--storage-writes takes adaptive, async or sync, not 'later'")) {
            try NodeConfig.parse(arguments: Self.arguments("/nonexistent") + ["--storage-writes", "later"])
        }
        #expect(throws: NodeConfig.Invalid(message: "--storage-writes async needs --group-commit syncfs (its background sync is one syncfs)")) {
            try NodeConfig.parse(arguments: Self.arguments("/nonexistent") + ["--group-commit", "fdatasync", "--storage-writes", "async"])
        }
        #expect(throws: NodeConfig.Invalid(message: "--storage-writes adaptive needs --group-commit syncfs (its background sync is one syncfs)")) {
            try NodeConfig.parse(arguments: Self.arguments("/nonexistent") + ["--group-commit", "fdatasync", "--storage-writes", "adaptive"])
        }
        #expect(try NodeConfig.parse(arguments: Self.arguments("/nonexistent") + ["--group-commit", "fdatasync"]).storageWrites == .sync)
    }

    @Test func anUnknownModeIsRefusedByName() {
        #expect(throws: NodeConfig.Invalid(message: "--group-commit takes syncfs or fdatasync, not 'fsync'")) {
            try NodeConfig.parse(arguments: Self.arguments("/nonexistent") + ["--group-commit", "fsync"])
        }
    }

    @Test func theSyncCoversItsOwnFileSystemOnly() throws {
        let directory = try FileSystemCalls.makeTemporaryDirectory(prefix: "mom-covers-")
        defer { try? FileSystemCalls.removeTree(directory) }
        try FileSystemCalls.makeDirectory("\(directory)/topic")
        let sync = try PosixFileSystemSync(directory: directory)
        #expect(sync.covers("\(directory)/topic"))
        #expect(!sync.covers("/proc/self"), "procfs is another file system")
        #expect(!sync.covers("\(directory)/missing"))
    }

    /// A partition directory on another mount would be acked without being synced: refused.
    @Test func aLogOutsideTheSyncedFileSystemIsRefused() throws {
        final class Elsewhere: FileSystemSync, @unchecked Sendable {
            func sync() throws(Errno) {}
            func covers(_ path: String) -> Bool { false }
        }
        let directory = try FileSystemCalls.makeTemporaryDirectory(prefix: "mom-elsewhere-")
        defer { try? FileSystemCalls.removeTree(directory) }
        let factory = SegmentGroupLogFactory(dataDirectory: directory, fileSystem: PosixFileSystem(), limits: .standard,
                                             clock: SystemClock(), fileSystemSync: Elsewhere())
        #expect(throws: SegmentGroupLogFactory.OutsideSyncedFileSystem.self) {
            _ = try factory.openLog(for: GroupID(7), owner: GroupOwner(destinationType: .topic, name: "orders", partition: PartitionID(0)))
        }
        let synced = SegmentGroupLogFactory(dataDirectory: directory, fileSystem: PosixFileSystem(), limits: .standard,
                                            clock: SystemClock(), fileSystemSync: try PosixFileSystemSync(directory: directory))
        _ = try synced.openLog(for: GroupID(8), owner: GroupOwner(destinationType: .topic, name: "orders", partition: PartitionID(1)))
    }
}
