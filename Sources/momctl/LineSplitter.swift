/// Splits a byte stream into lines ("\n", with an optional "\r" before it removed), refusing a
/// line longer than a bound. Pure and incremental, so `produce` never holds more than one
/// line plus one read chunk, and the splitting is tested without standard input.
struct LineSplitter: Sendable {
    /// A line longer than the bound: its 1-based number and the bound.
    struct LineTooLong: Error, Equatable {
        var lineNumber: Int
        var bytesMaximum: Int
    }

    let lineBytesMaximum: Int
    private var pending: [UInt8] = []
    /// Lines completed so far, for error messages.
    private(set) var lineNumber = 0

    init(lineBytesMaximum: Int) {
        precondition(lineBytesMaximum > 0, "a line bound must be positive")
        self.lineBytesMaximum = lineBytesMaximum
    }

    /// Feeds a chunk; returns the lines it completed.
    mutating func feed(_ chunk: some Collection<UInt8>) throws(LineTooLong) -> [[UInt8]] {
        var lines: [[UInt8]] = []
        for byte in chunk {
            if byte == UInt8(ascii: "\n") {
                lines.append(try finishLine())
            } else {
                // "\r" may end a CRLF line, so it counts only once the line goes on.
                if pending.count > lineBytesMaximum { throw LineTooLong(lineNumber: lineNumber + 1, bytesMaximum: lineBytesMaximum) }
                pending.append(byte)
            }
        }
        return lines
    }

    /// At end of input: the last line if it had no newline, else nil.
    mutating func finish() throws(LineTooLong) -> [UInt8]? {
        pending.isEmpty ? nil : try finishLine()
    }

    private mutating func finishLine() throws(LineTooLong) -> [UInt8] {
        var line = pending
        pending.removeAll(keepingCapacity: true)
        lineNumber += 1
        if line.last == UInt8(ascii: "\r") { line.removeLast() }
        if line.count > lineBytesMaximum { throw LineTooLong(lineNumber: lineNumber, bytesMaximum: lineBytesMaximum) }
        return line
    }
}

/// Groups records into batches bounded in count and bytes. Pure.
struct BatchBuilder<Element>: Sendable where Element: Sendable {
    let recordsMaximum: Int
    let bytesMaximum: Int
    private(set) var records: [Element] = []
    private(set) var bytes = 0

    init(recordsMaximum: Int, bytesMaximum: Int) {
        precondition(recordsMaximum > 0 && bytesMaximum > 0, "batch bounds must be positive")
        self.recordsMaximum = recordsMaximum
        self.bytesMaximum = bytesMaximum
    }

    /// Whether adding a record of `size` bytes would break a bound (a lone record never does).
    func wouldOverflow(adding size: Int) -> Bool {
        !records.isEmpty && (records.count + 1 > recordsMaximum || bytes + size > bytesMaximum)
    }

    mutating func append(_ element: Element, size: Int) {
        records.append(element)
        bytes += size
    }

    /// Takes the batch, leaving the builder empty.
    mutating func take() -> [Element] {
        defer {
            records.removeAll(keepingCapacity: true)
            bytes = 0
        }
        return records
    }
}
