import Glibc
import SystemIO
import Testing

/// `FileSyncHandle`: a descriptor of its own, for a sync thread, that outlives the owner's.
@Suite struct FileSyncHandleTests {
    @Test func aHandleOutlivesItsFileAndKnowsWhichFileItIs() throws {
        let directory = try FileSystemCalls.makeTemporaryDirectory(prefix: "mom-sync-handle-")
        defer { try? FileSystemCalls.removeTree(directory) }
        let fileSystem = PosixFileSystem()
        let file = try fileSystem.createFile("\(directory)/a")
        try file.write(toAbsoluteOffset: 0, [1, 2, 3])
        let handle = try #require(try file.syncHandle())
        let second = try #require(try file.syncHandle())
        try file.close()
        try handle.dataSync()
        #expect(try handle.identity() == second.identity(), "two handles of one file")
        let other = try fileSystem.createFile("\(directory)/b")
        let otherHandle = try #require(try other.syncHandle())
        #expect(try otherHandle.identity() != handle.identity(), "another file is another identity")
        var status = stat()
        #expect(stat("\(directory)/a", &status) == 0)
        #expect(try handle.identity() == FileIdentity(device: UInt64(status.st_dev), inode: UInt64(status.st_ino)))
        for each in [handle, second, otherHandle] { each.close() }
        try other.close()
    }

    @Test func aSimulatedFileHasNoneSoTheCallerSyncsTheFileSystem() throws {
        let fileSystem = SimulatedFileSystem(seed: 1)
        let file = try fileSystem.createFile("/x")
        #expect(try file.syncHandle() == nil)
    }
}
