import Glibc
import Testing
@testable import SystemIO

@Suite("Posix file operations")
struct PosixFileTests {
    let directory: String

    init() throws {
        directory = try FileSystemCalls.makeTemporaryDirectory(prefix: "mom-systemio-")
    }

    @Test func writeReadSyncTruncateAndSize() throws {
        let path = "\(directory)/data"
        let file = try FileDescriptor.open(path, [.readWrite, .create, .exclusive])
        defer { try? file.close(); try? FileSystemCalls.removeTree(directory) }
        let bytes: [UInt8] = Array(0..<200)
        try bytes.withUnsafeBytes { try file.write(toAbsoluteOffset: 10, $0) }
        try file.dataSync()
        try file.sync()
        #expect(try file.size() == 210)
        var back = [UInt8](repeating: 0xFF, count: 300)
        let count = try back.withUnsafeMutableBytes { try file.read(fromAbsoluteOffset: 0, into: $0) }
        #expect(count == 210)
        #expect(back[0..<10].allSatisfy { $0 == 0 })
        #expect(Array(back[10..<210]) == bytes)
        try file.truncate(toSize: 50)
        #expect(try file.size() == 50)
        try file.allocate(offset: 0, length: 4096)
        #expect(try file.size() == 4096)
        #expect(try FileSystemCalls.fileSize(path) == 4096)
    }

    @Test func exclusiveCreateFailsWhenTheNameExists() throws {
        defer { try? FileSystemCalls.removeTree(directory) }
        let path = "\(directory)/once"
        let first = try FileDescriptor.open(path, [.readWrite, .create, .exclusive])
        try first.close()
        #expect(throws: Errno.exists) { try FileDescriptor.open(path, [.readWrite, .create, .exclusive]) }
        #expect(throws: Errno.noEntry) { try FileDescriptor.open("\(directory)/missing", .readWrite) }
    }

    @Test func descriptorsAreCloseOnExec() throws {
        defer { try? FileSystemCalls.removeTree(directory) }
        let file = try FileDescriptor.open("\(directory)/f", [.readWrite, .create])
        defer { try? file.close() }
        let flags = fcntl(file.rawValue, F_GETFD)
        #expect(flags & FD_CLOEXEC != 0)
    }

    @Test func directoryOperations() throws {
        defer { try? FileSystemCalls.removeTree(directory) }
        let fileSystem = PosixFileSystem()
        try fileSystem.makeDirectory("\(directory)/sub")
        let file = try fileSystem.createFile("\(directory)/sub/a")
        try file.write(toAbsoluteOffset: 0, [1, 2, 3])
        try file.dataSync()
        try file.close()
        try fileSystem.rename("\(directory)/sub/a", to: "\(directory)/sub/b")
        try fileSystem.syncDirectory("\(directory)/sub")
        #expect(try fileSystem.listDirectory("\(directory)/sub") == ["b"])
        #expect(!fileSystem.exists("\(directory)/sub/a"))
        let reopened = try fileSystem.openFile("\(directory)/sub/b")
        #expect(try reopened.readBytes(fromAbsoluteOffset: 0, count: 3) == [1, 2, 3])
        #expect(throws: Errno.ioError) { try reopened.readBytes(fromAbsoluteOffset: 0, count: 4) }
        try reopened.close()
        try fileSystem.removeFile("\(directory)/sub/b")
        #expect(try fileSystem.listDirectory("\(directory)/sub").isEmpty)
        #expect(throws: Errno.noEntry) { try fileSystem.removeFile("\(directory)/sub/b") }
    }
}
