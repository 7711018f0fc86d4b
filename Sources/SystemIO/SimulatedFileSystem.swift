import MOMCore

/// An in-memory file system that fails the way disks fail, driven by a seed (after TigerBeetle's
/// simulated storage). Per file it keeps durable bytes (what survives a crash) apart from the
/// current bytes (what reads see) and the list of writes since the last fdatasync. Per directory
/// it keeps the entries made durable by the last directory fsync and the operations since.
///
/// `crash()` is a power cut: each file keeps its durable bytes plus, chosen by the seed, nothing,
/// a prefix of its unsynced writes with the last one torn at an arbitrary byte (optionally
/// zero-extended, as when the size reached disk but the data did not), or an arbitrary subset;
/// each directory keeps its durable entries plus a prefix of its unsynced operations.
///
/// Faults: `failNext(_:with:)` fails one operation on demand, `faultRate` fails mutating
/// operations at random with EIO or ENOSPC, and `scheduleCrash(afterOperations:)` halts the
/// "process" mid-operation: every later call throws EIO until `crash()`.
/// Single-threaded by design, like the simulator that drives it. Paths are absolute, without
/// a trailing slash, and a rename stays within one directory.
public final class SimulatedFileSystem: FileSystem {
    /// The mutating operations a fault can target.
    public enum Operation: Hashable, Sendable {
        case write, dataSync, truncate, create, open, rename, remove, makeDirectory, syncDirectory, read
        /// A whole-file-system sync (`SimulatedFileSystemSync`, syncfs(2) in the real one).
        case syncFileSystem
    }

    /// The seed's generator: every choice (faults, tears, survivors) comes from it.
    public private(set) var random: SeededRandom
    /// Chance per mutating operation of a random EIO/ENOSPC, as numerator over 1,000,000.
    public var faultRatePerMillion: UInt64 = 0
    /// Counts operations since creation, for diagnostics.
    public private(set) var operationCount: UInt64 = 0
    /// Incremented by each crash; handles from an earlier generation are dead.
    public private(set) var generation: UInt64 = 0

    var files: [String: SimulatedInode] = [:]
    var directories: Set<String> = ["/"]
    var durableFiles: [String: SimulatedInode] = [:]
    var durableDirectories: Set<String> = ["/"]
    /// Namespace changes per parent directory since its last fsync, oldest first.
    var pendingDirectoryOperations: [String: [DirectoryOperation]] = [:]
    var oneShotFaults: [Operation: [Errno]] = [:]
    var operationsUntilHalt: Int?
    var halted = false

    public init(seed: UInt64) { random = SeededRandom(seed: seed) }

    /// Fails the next `operation` with `error`, once.
    public func failNext(_ operation: Operation, with error: Errno) {
        oneShotFaults[operation, default: []].append(error)
    }

    /// After `count` more operations, every call throws EIO until `crash()`: a crash in the
    /// middle of whatever the caller is doing.
    public func scheduleCrash(afterOperations count: Int) {
        precondition(count >= 0, "negative operation count")
        operationsUntilHalt = count
    }

    /// Whether a scheduled crash has stopped the file system.
    public var isHalted: Bool { halted }

    /// A power cut and restart: unsynced data and directory changes are lost or torn, per the seed.
    public func crash() {
        generation += 1
        halted = false
        operationsUntilHalt = nil
        oneShotFaults = [:]
        for directory in pendingDirectoryOperations.keys.sorted() {
            let operations = pendingDirectoryOperations[directory]!
            let survivors = Int(random.uniform(below: UInt64(operations.count) + 1))
            for operation in operations.prefix(survivors) { applyDurably(operation) }
        }
        pendingDirectoryOperations = [:]
        // A file whose directory did not survive is gone with it.
        durableFiles = durableFiles.filter { durableDirectories.contains(parent(of: $0.key)) }
        durableDirectories = durableDirectories.filter { $0 == "/" || durableDirectories.contains(parent(of: $0)) }
        var seen = Set<ObjectIdentifier>()
        for path in durableFiles.keys.sorted() {
            let inode = durableFiles[path]!
            if seen.insert(ObjectIdentifier(inode)).inserted { inode.crash(using: &random) }
        }
        files = durableFiles
        directories = durableDirectories
    }

    /// The current bytes of a file, for test assertions (not part of `FileSystem`).
    public func contents(of path: String) -> [UInt8]? { files[path]?.current }

    /// Overwrites bytes of a file durably, as silent corruption would (bit rot in tests).
    public func corrupt(_ path: String, at offset: Int, with bytes: [UInt8]) {
        guard let inode = files[path] else { preconditionFailure("corrupt: no file \(path)") }
        inode.write(at: UInt64(offset), bytes)
        inode.dataSync()
    }

    // MARK: FileSystem

    public func openFile(_ path: String) throws(Errno) -> any StorageFile {
        try step(.open)
        guard let inode = files[path] else { throw Errno.noEntry }
        return SimulatedFile(inode: inode, fileSystem: self)
    }

    public func createFile(_ path: String) throws(Errno) -> any StorageFile {
        try step(.create)
        guard directories.contains(parent(of: path)) else { throw Errno.noEntry }
        if files[path] != nil || directories.contains(path) { throw Errno.exists }
        let inode = SimulatedInode()
        files[path] = inode
        record(.link(path, inode))
        return SimulatedFile(inode: inode, fileSystem: self)
    }

    public func listDirectory(_ path: String) throws(Errno) -> [String] {
        try step(.read)
        guard directories.contains(path) else { throw Errno.noEntry }
        let prefix = path == "/" ? "/" : path + "/"
        var names: [String] = []
        for name in files.keys where parent(of: name) == path { names.append(String(name.dropFirst(prefix.count))) }
        for name in directories where name != "/" && parent(of: name) == path {
            names.append(String(name.dropFirst(prefix.count)))
        }
        return names
    }

    public func rename(_ source: String, to destination: String) throws(Errno) {
        try step(.rename)
        precondition(parent(of: source) == parent(of: destination), "simulated rename across directories")
        guard let inode = files[source] else { throw Errno.noEntry }
        files[destination] = inode
        files[source] = nil
        record(.rename(from: source, to: destination, inode))
    }

    public func removeFile(_ path: String) throws(Errno) {
        try step(.remove)
        guard files[path] != nil else { throw Errno.noEntry }
        files[path] = nil
        record(.unlink(path))
    }

    public func makeDirectory(_ path: String) throws(Errno) {
        try step(.makeDirectory)
        guard directories.contains(parent(of: path)) else { throw Errno.noEntry }
        if files[path] != nil || directories.contains(path) { throw Errno.exists }
        directories.insert(path)
        record(.makeDirectory(path))
    }

    public func syncDirectory(_ path: String) throws(Errno) {
        try step(.syncDirectory)
        guard directories.contains(path) else { throw Errno.noEntry }
        for operation in pendingDirectoryOperations[path] ?? [] { applyDurably(operation) }
        pendingDirectoryOperations[path] = nil
    }

    public func exists(_ path: String) -> Bool { files[path] != nil || directories.contains(path) }

    /// syncfs(2): every file's writes and every directory's operations become durable.
    func syncEverything() throws(Errno) {
        try step(.syncFileSystem)
        for directory in pendingDirectoryOperations.keys.sorted() {
            for operation in pendingDirectoryOperations[directory]! { applyDurably(operation) }
        }
        pendingDirectoryOperations = [:]
        var seen = Set<ObjectIdentifier>()
        for path in files.keys.sorted() {
            let inode = files[path]!
            if seen.insert(ObjectIdentifier(inode)).inserted { inode.dataSync() }
        }
    }

    // MARK: Internals

    enum DirectoryOperation {
        case link(String, SimulatedInode)
        case rename(from: String, to: String, SimulatedInode)
        case unlink(String)
        case makeDirectory(String)
    }

    func record(_ operation: DirectoryOperation) {
        let path: String
        switch operation {
        case .link(let name, _), .unlink(let name), .makeDirectory(let name): path = name
        case .rename(let from, _, _): path = from
        }
        pendingDirectoryOperations[parent(of: path), default: []].append(operation)
    }

    func applyDurably(_ operation: DirectoryOperation) {
        switch operation {
        case .link(let name, let inode): durableFiles[name] = inode
        case .rename(let from, let to, let inode):
            durableFiles[to] = inode
            durableFiles[from] = nil
        case .unlink(let name): durableFiles[name] = nil
        case .makeDirectory(let name): durableDirectories.insert(name)
        }
    }

    func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "/" }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    /// Counts an operation and decides whether it fails: halted, a one-shot fault, or a random one.
    func step(_ operation: Operation) throws(Errno) {
        operationCount += 1
        if halted { throw Errno.ioError }
        if let remaining = operationsUntilHalt {
            if remaining == 0 {
                halted = true
                throw Errno.ioError
            }
            operationsUntilHalt = remaining - 1
        }
        if var queued = oneShotFaults[operation], !queued.isEmpty {
            let error = queued.removeFirst()
            oneShotFaults[operation] = queued
            throw error
        }
        if faultRatePerMillion > 0, operation != .read, random.uniform(below: 1_000_000) < faultRatePerMillion {
            throw random.chance(1, in: 2) ? Errno.ioError : Errno.noSpace
        }
    }

    /// A failed write may still have reached the page cache in part.
    func tornWriteOnFailure(_ inode: SimulatedInode, offset: UInt64, bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0, random.chance(1, in: 2) else { return }
        let cut = Int(random.uniform(below: UInt64(bytes.count)))
        inode.write(at: offset, Array(bytes[0..<cut]))
    }
}
