import MOMCore

/// One file's state in `SimulatedFileSystem`: what reads see, what survives a crash, and the
/// operations in between. Shared by every name and handle that refers to it, like an inode.
final class SimulatedInode {
    enum PendingOperation {
        case write(offset: UInt64, bytes: [UInt8])
        case truncate(size: UInt64)
    }

    var current: [UInt8] = []
    var durable: [UInt8] = []
    var pending: [PendingOperation] = []

    func write(at offset: UInt64, _ bytes: [UInt8]) {
        Self.apply(.write(offset: offset, bytes: bytes), to: &current)
        pending.append(.write(offset: offset, bytes: bytes))
    }

    func truncate(to size: UInt64) {
        Self.apply(.truncate(size: size), to: &current)
        pending.append(.truncate(size: size))
    }

    func dataSync() {
        durable = current
        pending.removeAll()
    }

    /// Decides what of the unsynced operations reached the disk, then forgets the rest.
    func crash(using random: inout SeededRandom) {
        var survivor = durable
        switch random.uniform(below: 3) {
        case 0:
            break  // Nothing unsynced survived.
        case 1:
            // A prefix survived and the last write of it was torn.
            let count = Int(random.uniform(below: UInt64(pending.count) + 1))
            for (position, operation) in pending.prefix(count).enumerated() {
                if position == count - 1, case .write(let offset, let bytes) = operation {
                    Self.applyTorn(offset: offset, bytes: bytes, to: &survivor, using: &random)
                } else {
                    Self.apply(operation, to: &survivor)
                }
            }
        default:
            // The disk reordered: any subset survived, in order.
            for operation in pending where random.chance(1, in: 2) { Self.apply(operation, to: &survivor) }
        }
        durable = survivor
        current = survivor
        pending.removeAll()
    }

    static func apply(_ operation: PendingOperation, to bytes: inout [UInt8]) {
        switch operation {
        case .truncate(let size):
            let size = Int(size)
            if size < bytes.count {
                bytes.removeSubrange(size...)
            } else {
                bytes.append(contentsOf: repeatElement(0, count: size - bytes.count))
            }
        case .write(let offset, let data):
            let start = Int(offset)
            let end = start + data.count
            if end > bytes.count { bytes.append(contentsOf: repeatElement(0, count: end - bytes.count)) }
            bytes.replaceSubrange(start..<end, with: data)
        }
    }

    /// Writes a prefix of `bytes` cut at an arbitrary byte; sometimes the size made it to disk
    /// without the data, leaving zeros where the rest should be.
    static func applyTorn(offset: UInt64, bytes: [UInt8], to target: inout [UInt8], using random: inout SeededRandom) {
        let cut = Int(random.uniform(below: UInt64(bytes.count) + 1))
        apply(.write(offset: offset, bytes: Array(bytes[0..<cut])), to: &target)
        if random.chance(1, in: 2) {
            let end = Int(offset) + bytes.count
            if end > target.count { target.append(contentsOf: repeatElement(0, count: end - target.count)) }
        }
    }
}

/// A handle on a simulated file. After a crash it is dead: every call throws EBADF.
final class SimulatedFile: StorageFile {
    let inode: SimulatedInode
    unowned let fileSystem: SimulatedFileSystem
    let generation: UInt64
    var isClosed = false

    init(inode: SimulatedInode, fileSystem: SimulatedFileSystem) {
        self.inode = inode
        self.fileSystem = fileSystem
        self.generation = fileSystem.generation
    }

    func check(_ operation: SimulatedFileSystem.Operation) throws(Errno) {
        if isClosed || generation != fileSystem.generation { throw Errno.badFileDescriptor }
        try fileSystem.step(operation)
    }

    func read(fromAbsoluteOffset offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int {
        try check(.read)
        let start = Int(offset)
        guard start < inode.current.count else { return 0 }
        let count = min(buffer.count, inode.current.count - start)
        inode.current.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + start, byteCount: count)
        }
        return count
    }

    func write(toAbsoluteOffset offset: UInt64, _ bytes: UnsafeRawBufferPointer) throws(Errno) {
        do {
            try check(.write)
        } catch {
            if error != .badFileDescriptor, !fileSystem.isHalted {
                fileSystem.tornWriteOnFailure(inode, offset: offset, bytes: bytes)
            }
            throw error
        }
        inode.write(at: offset, Array(bytes))
    }

    func dataSync() throws(Errno) {
        try check(.dataSync)
        inode.dataSync()
    }

    func truncate(toSize size: UInt64) throws(Errno) {
        try check(.truncate)
        inode.truncate(to: size)
    }

    func size() throws(Errno) -> UInt64 {
        if isClosed || generation != fileSystem.generation { throw Errno.badFileDescriptor }
        return UInt64(inode.current.count)
    }

    func close() throws(Errno) {
        if isClosed { throw Errno.badFileDescriptor }
        isClosed = true
    }
}
