import MOMCore
import SystemIO

/// Walks the batches of a segment file front to back, reading in large chunks so that a scan
/// costs one pread per chunk rather than two per batch. It checks only that each batch's
/// length is sane and fits in the file; callers validate the rest.
struct BatchScanner {
    /// Why a scan stopped.
    enum Stop: Equatable {
        /// Reached `end` exactly.
        case end
        /// A batch header is malformed or its length runs past `end`: a torn or corrupt tail.
        case invalid(position: UInt64)
        /// The visitor asked to stop.
        case stopped(position: UInt64)
    }

    let file: any StorageFile
    let path: String
    let end: UInt64
    let chunkBytes: Int
    let limits: Limits
    /// When false, `visit` sees only each batch's 64-byte header: enough to find an offset
    /// or a term without reading whole batches.
    var wholeBatches = true

    /// Calls `visit(position, batchBytes)` for each batch from `start`; `visit` returns false to stop.
    /// The batch bytes are valid only during the call.
    func scan(
        from start: UInt64, _ visit: (UInt64, UnsafeRawBufferPointer) throws(SegmentLogError) -> Bool
    ) throws(SegmentLogError) -> Stop {
        var chunk: [UInt8] = []
        var chunkStart = start
        var position = start
        // Bounded: every iteration advances `position` by a batch length of at least 64 bytes.
        while position < end {
            if end - position < UInt64(BatchHeader.size) { return .invalid(position: position) }
            if position + UInt64(BatchHeader.size) > chunkStart + UInt64(chunk.count) {
                chunk = try read(at: position, count: max(chunkBytes, BatchHeader.size))
                chunkStart = position
            }
            let length = chunk.withUnsafeBytes { raw in
                UInt64(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: Int(position - chunkStart), as: UInt32.self)))
            }
            if length < UInt64(BatchHeader.size) || length > UInt64(limits.batchBytesMax + BatchHeader.size)
                || length > end - position {
                return .invalid(position: position)
            }
            let visible = wholeBatches ? length : UInt64(BatchHeader.size)
            if position + visible > chunkStart + UInt64(chunk.count) {
                chunk = try read(at: position, count: max(chunkBytes, Int(visible)))
                chunkStart = position
            }
            var visitError: SegmentLogError?
            let keepGoing = chunk.withUnsafeBytes { raw -> Bool in
                let from = Int(position - chunkStart)
                do throws(SegmentLogError) {
                    return try visit(position, UnsafeRawBufferPointer(rebasing: raw[from..<(from + Int(visible))]))
                } catch {
                    visitError = error
                    return false
                }
            }
            if let visitError { throw visitError }
            if !keepGoing { return .stopped(position: position) }
            position += length
        }
        return .end
    }

    func read(at position: UInt64, count: Int) throws(SegmentLogError) -> [UInt8] {
        let wanted = Int(min(UInt64(count), end - position))
        do {
            return try file.readBytes(fromAbsoluteOffset: position, count: wanted)
        } catch {
            throw .io(error, path: path)
        }
    }
}
