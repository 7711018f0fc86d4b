import Foundation

/// Reads standard input in bounded chunks for `produce`, `queue send` and `exchange publish`.
enum StandardInput {
    static let chunkBytes = 64 << 10

    /// The next chunk, or nil at end of input.
    static func readChunk(_ descriptor: Int32) throws(RuntimeFailure) -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: chunkBytes)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, chunkBytes) }
            if count > 0 { return Array(chunk[0..<count]) }
            if count == 0 { return nil }
            if errno == EINTR { continue }
            throw RuntimeFailure(message: "reading standard input failed: \(String(cString: strerror(errno)))")
        }
    }

    /// Calls `body` with each batch of lines from standard input, bounded per batch in records
    /// and bytes, and per line in bytes. Returns the number of lines read.
    static func forEachBatch(
        descriptor: Int32, lineBytesMaximum: Int, recordsMaximum: Int, bytesMaximum: Int,
        _ body: ([[UInt8]]) async throws -> Void
    ) async throws -> Int {
        var splitter = LineSplitter(lineBytesMaximum: lineBytesMaximum)
        var batch = BatchBuilder<[UInt8]>(recordsMaximum: recordsMaximum, bytesMaximum: bytesMaximum)
        var total = 0
        func add(_ line: [UInt8]) async throws {
            if batch.wouldOverflow(adding: line.count) { try await body(batch.take()) }
            batch.append(line, size: line.count)
            total += 1
        }
        do {
            while let chunk = try readChunk(descriptor) {
                for line in try splitter.feed(chunk) { try await add(line) }
            }
            if let last = try splitter.finish() { try await add(last) }
        } catch let tooLong as LineSplitter.LineTooLong {
            if !batch.records.isEmpty { try await body(batch.take()) }
            throw RuntimeFailure(
                message: "line \(tooLong.lineNumber) of standard input is longer than \(tooLong.bytesMaximum) bytes "
                    + "(raise --max-line-bytes); the \(total) lines before it were sent")
        }
        if !batch.records.isEmpty { try await body(batch.take()) }
        return total
    }
}
