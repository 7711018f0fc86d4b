import MOMCore
import Testing
@testable import SystemIO

@Suite("Whole-file-system sync")
struct FileSystemSyncTests {
    /// Unsynced writes and directory entries of every file survive a crash after one
    /// whole-file-system sync, for every seed's choice of what a crash keeps.
    @Test func oneSyncMakesEveryFileDurable() throws {
        for seed in UInt64(0)..<50 {
            let fileSystem = SimulatedFileSystem(seed: seed)
            try fileSystem.makeDirectory("/d")
            let first = try fileSystem.createFile("/d/a")
            let second = try fileSystem.createFile("/b")
            try first.write(toAbsoluteOffset: 0, [1, 2, 3])
            try second.write(toAbsoluteOffset: 0, [4, 5])
            try SimulatedFileSystemSync(fileSystem).sync()
            fileSystem.crash()
            #expect(fileSystem.contents(of: "/d/a") == [1, 2, 3], "seed \(seed)")
            #expect(fileSystem.contents(of: "/b") == [4, 5], "seed \(seed)")
        }
    }

    /// Without that sync the same crash loses something for some seed: the test above can fail.
    @Test func withoutTheSyncACrashLosesWrites() throws {
        var lost = false
        for seed in UInt64(0)..<50 where !lost {
            let fileSystem = SimulatedFileSystem(seed: seed)
            let file = try fileSystem.createFile("/a")
            try file.write(toAbsoluteOffset: 0, [1, 2, 3])
            fileSystem.crash()
            lost = fileSystem.contents(of: "/a") != [1, 2, 3]
        }
        #expect(lost)
    }

    @Test func aFailedSyncThrows() throws {
        let fileSystem = SimulatedFileSystem(seed: 1)
        fileSystem.failNext(.syncFileSystem, with: .ioError)
        #expect(throws: Errno.ioError) { try SimulatedFileSystemSync(fileSystem).sync() }
        try SimulatedFileSystemSync(fileSystem).sync()
    }

    /// The real syncfs on a temporary directory, and the error for a directory that is not there.
    @Test func posixSyncOfATemporaryDirectory() throws {
        let directory = try FileSystemCalls.makeTemporaryDirectory(prefix: "mom-syncfs-")
        defer { try? FileSystemCalls.removeTree(directory) }
        let file = try PosixFileSystem().createFile("\(directory)/a")
        try file.write(toAbsoluteOffset: 0, [1, 2, 3])
        try PosixFileSystem().fileSystemSync(for: directory).sync()
        try file.close()
        #expect(throws: Errno.noEntry) { try PosixFileSystemSync(directory: "\(directory)/missing") }
    }
}
