import MOMCore
import Testing
@testable import SystemIO

@Suite("Simulated file system")
struct SimulatedFileSystemTests {
    func makeFile(_ fileSystem: SimulatedFileSystem, _ path: String, _ bytes: [UInt8]) throws -> any StorageFile {
        let file = try fileSystem.createFile(path)
        try file.write(toAbsoluteOffset: 0, bytes)
        return file
    }

    @Test func syncedDataAndEntriesSurviveACrash() throws {
        for seed in UInt64(0)..<50 {
            let fileSystem = SimulatedFileSystem(seed: seed)
            try fileSystem.makeDirectory("/d")
            let file = try makeFile(fileSystem, "/d/a", [1, 2, 3, 4])
            try file.dataSync()
            try fileSystem.syncDirectory("/")
            try fileSystem.syncDirectory("/d")
            fileSystem.crash()
            #expect(fileSystem.contents(of: "/d/a") == [1, 2, 3, 4], "seed \(seed)")
        }
    }

    @Test func unsyncedWritesAreLostOrTornButNeverInvented() throws {
        var outcomes = Set<[UInt8]>()
        for seed in UInt64(0)..<200 {
            let fileSystem = SimulatedFileSystem(seed: seed)
            let file = try makeFile(fileSystem, "/a", [1, 1, 1, 1])
            try file.dataSync()
            try fileSystem.syncDirectory("/")
            try file.write(toAbsoluteOffset: 4, [2, 2, 2, 2])
            fileSystem.crash()
            let after = try #require(fileSystem.contents(of: "/a"), "seed \(seed)")
            #expect(Array(after.prefix(4)) == [1, 1, 1, 1], "seed \(seed)")
            #expect(after.dropFirst(4).allSatisfy { $0 == 2 || $0 == 0 }, "seed \(seed)")
            outcomes.insert(after)
        }
        #expect(outcomes.contains([1, 1, 1, 1]))  // lost
        #expect(outcomes.contains([1, 1, 1, 1, 2, 2, 2, 2]))  // survived
        #expect(outcomes.contains { $0.count > 4 && $0.count < 8 })  // torn
        #expect(outcomes.contains { $0.count == 8 && $0.last == 0 })  // size without data
    }

    @Test func unsyncedDirectoryChangesCanBeLost() throws {
        var sawLost = false
        var sawKept = false
        for seed in UInt64(0)..<50 {
            let fileSystem = SimulatedFileSystem(seed: seed)
            let file = try makeFile(fileSystem, "/a", [7])
            try file.dataSync()
            try fileSystem.syncDirectory("/")
            try fileSystem.rename("/a", to: "/b")
            fileSystem.crash()
            let names = try fileSystem.listDirectory("/")
            #expect(names == ["a"] || names == ["b"], "seed \(seed)")
            if names == ["a"] { sawLost = true } else { sawKept = true }
            #expect(throws: Errno.badFileDescriptor) { try file.dataSync() }
        }
        #expect(sawLost && sawKept)
    }

    @Test func faultsOnDemandAndScheduledCrash() throws {
        let fileSystem = SimulatedFileSystem(seed: 1)
        let file = try makeFile(fileSystem, "/a", [1])
        fileSystem.failNext(.dataSync, with: .ioError)
        #expect(throws: Errno.ioError) { try file.dataSync() }
        try file.dataSync()
        fileSystem.failNext(.write, with: .noSpace)
        #expect(throws: Errno.noSpace) { try file.write(toAbsoluteOffset: 1, [2]) }
        fileSystem.scheduleCrash(afterOperations: 1)
        try file.write(toAbsoluteOffset: 1, [3])
        #expect(throws: Errno.ioError) { try file.dataSync() }
        #expect(fileSystem.isHalted)
        #expect(throws: Errno.ioError) { try fileSystem.createFile("/b") }
        fileSystem.crash()
        #expect(!fileSystem.isHalted)
        #expect(fileSystem.contents(of: "/a")?.first == 1)
    }

    @Test func randomFaultsFollowTheSeed() throws {
        func failures(seed: UInt64) -> [Int] {
            let fileSystem = SimulatedFileSystem(seed: seed)
            fileSystem.faultRatePerMillion = 200_000
            var failed: [Int] = []
            for step in 0..<100 {
                do { _ = try fileSystem.createFile("/f\(step)") } catch { failed.append(step) }
            }
            return failed
        }
        #expect(failures(seed: 9) == failures(seed: 9))
        #expect(!failures(seed: 9).isEmpty)
    }
}
