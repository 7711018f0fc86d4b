import MOMCore
import SystemIO

/// A small file replaced atomically and durably: write `<path>.tmp`, fdatasync it, rename it
/// over `<path>`, fsync the directory (STYLE.md habit 9). A reader sees the old or the new
/// contents, never a mix. The contents carry a checksum that is checked on every read.
/// Raft's `raft-state` (term, vote, commit) and the log's truncation redo record use it.
///
/// Layout: magic "MOMA" (u32), payload length (u32), CRC32C of the payload (u32), payload.
public enum AtomicFile {
    static let magic: UInt32 = 0x414D_4F4D  // "MOMA" little-endian
    static let headerSize = 12
    /// Upper bound on payloads: these files hold a few fields, never data.
    public static let payloadBytesMax = 16 << 20

    /// Durably replaces the file at `path` with `payload`.
    public static func write(_ payload: [UInt8], to path: String, fileSystem: any FileSystem) throws(SegmentLogError) {
        try writeTemporary(payload, for: path, fileSystem: fileSystem, sync: true)
        try moveTemporaryIntoPlace(for: path, fileSystem: fileSystem)
        let directory = parentDirectory(of: path)
        do { try fileSystem.syncDirectory(directory) } catch { throw .io(error, path: directory) }
    }

    /// The first half of a deferred replacement, for a caller that makes many small files
    /// durable with one whole-file-system sync: writes `<path>.tmp`, fdatasync'd only with
    /// `sync`. The temporary file must be durable (that sync, `syncTemporary`, or a syncfs
    /// started after this call) before `moveTemporaryIntoPlace`, and the rename durable
    /// (a directory fsync or a later syncfs) before anything relies on the new contents. A
    /// crash in between leaves the old file, or the new one whole; recovery deletes a `.tmp`.
    public static func writeTemporary(_ payload: [UInt8], for path: String, fileSystem: any FileSystem, sync: Bool) throws(SegmentLogError) {
        precondition(payload.count <= payloadBytesMax, "AtomicFile payload too large")
        let temporary = path + SegmentFileNames.temporarySuffix
        if fileSystem.exists(temporary) {
            do { try fileSystem.removeFile(temporary) } catch { throw .io(error, path: temporary) }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(headerSize + payload.count)
        append(magic, to: &bytes)
        append(UInt32(payload.count), to: &bytes)
        append(CRC32C.checksum(payload), to: &bytes)
        bytes.append(contentsOf: payload)
        let file: any StorageFile
        do { file = try fileSystem.createFile(temporary) } catch { throw .io(error, path: temporary) }
        do {
            try file.write(toAbsoluteOffset: 0, bytes)
            if sync { try file.dataSync() }
        } catch {
            try? file.close()
            throw .io(error, path: temporary)
        }
        try? file.close()
    }

    /// fdatasync of the temporary file `writeTemporary` left unsynced.
    public static func syncTemporary(for path: String, fileSystem: any FileSystem) throws(SegmentLogError) {
        let temporary = path + SegmentFileNames.temporarySuffix
        do {
            let file = try fileSystem.openFile(temporary)
            defer { try? file.close() }
            try file.dataSync()
        } catch {
            throw .io(error, path: temporary)
        }
    }

    /// Renames the (durable) temporary file over `path`; the caller makes the rename durable.
    public static func moveTemporaryIntoPlace(for path: String, fileSystem: any FileSystem) throws(SegmentLogError) {
        do { try fileSystem.rename(path + SegmentFileNames.temporarySuffix, to: path) } catch { throw .io(error, path: path) }
    }

    /// The payload at `path`, or nil if there is no such file. A torn or altered file throws.
    public static func read(_ path: String, fileSystem: any FileSystem) throws(SegmentLogError) -> [UInt8]? {
        guard fileSystem.exists(path) else { return nil }
        let bytes: [UInt8]
        do {
            let file = try fileSystem.openFile(path)
            defer { try? file.close() }
            let size = try file.size()
            guard size >= UInt64(headerSize), size <= UInt64(headerSize + payloadBytesMax) else {
                throw SegmentLogError.corruptFile(path: path, reason: "size \(size) is not a valid atomic file")
            }
            bytes = try file.readBytes(fromAbsoluteOffset: 0, count: Int(size))
        } catch let error as SegmentLogError {
            throw error
        } catch let error as Errno {
            throw .io(error, path: path)
        } catch {
            throw .corruptFile(path: path, reason: "\(error)")
        }
        let (storedMagic, length, checksum) = bytes.withUnsafeBytes { raw in
            (UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self)),
             UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self)),
             UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self)))
        }
        guard storedMagic == magic, Int(length) == bytes.count - headerSize else {
            throw .corruptFile(path: path, reason: "bad header")
        }
        let payload = Array(bytes[headerSize...])
        guard CRC32C.checksum(payload) == checksum else { throw .corruptFile(path: path, reason: "checksum mismatch") }
        return payload
    }

    static func append(_ value: UInt32, to bytes: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// The directory holding `path` ("." for a bare name).
    public static func parentDirectory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }
}
