import HTTPServer

/// Reading the partition leader's answer to a forwarded share, `{"offsets":[{"partition":P,
/// "offset":O},…]}`. A relaying node reads one per forwarded request; through the `JSONValue`
/// tree that was a quarter of its allocations (an array of members and a string per key, for
/// every record). The scan reads the shape the leader writes without a tree and leaves
/// anything else to the tree parser, so both always agree (`ProduceLeaderAnswerTests`).
extension ProduceRequest {
    /// The offsets in order, read by the tree parser; nil when the answer is malformed.
    static func parsedOffsets(_ body: [UInt8]) -> [UInt64]? {
        guard let list = (try? JSONValue(parsing: body))?["offsets"]?.arrayValue else { return nil }
        var offsets: [UInt64] = []
        offsets.reserveCapacity(list.count)
        for entry in list {
            guard let offset = entry["offset"]?.uint64Value else { return nil }
            offsets.append(offset)
        }
        return offsets
    }

    /// The offsets in order, read without a tree; nil for anything but an object with one
    /// `offsets` member, an array of objects each with one `offset` that is a non-negative
    /// integer literal, and nothing after it (other members are skipped, as the tree ignores
    /// them). Nil means "ask the tree parser", never "malformed".
    static func scannedOffsets(_ body: [UInt8]) -> [UInt64]? {
        body.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer, depthMax: JSONLimits().depthMax)
            do throws(JSONScanner.Fallback) {
                let offsets = try scanAnswer(&scanner)
                scanner.skipWhitespace()
                return scanner.atEnd ? offsets : nil
            } catch {
                return nil
            }
        }
    }

    /// `{…}` with exactly one `offsets` member; other members are skipped (validated).
    private static func scanAnswer(_ scanner: inout JSONScanner) throws(JSONScanner.Fallback) -> [UInt64] {
        try scanner.enter(UInt8(ascii: "{"))
        guard try !scanner.closesEmpty(UInt8(ascii: "}")) else { throw JSONScanner.Fallback() }
        var offsets: [UInt64]?
        // Bounded: each member consumes input.
        repeat {
            let name = try scanner.memberName()
            if scanner.matches(name, "offsets") {
                guard offsets == nil else { throw JSONScanner.Fallback() }
                offsets = try scanList(&scanner)
            } else {
                try scanner.skipValue()
            }
        } while try scanner.next(closer: UInt8(ascii: "}"))
        guard let offsets else { throw JSONScanner.Fallback() }
        return offsets
    }

    /// `[{…},…]`, one offset per object.
    private static func scanList(_ scanner: inout JSONScanner) throws(JSONScanner.Fallback) -> [UInt64] {
        try scanner.enter(UInt8(ascii: "["))
        var offsets: [UInt64] = []
        if try scanner.closesEmpty(UInt8(ascii: "]")) { return offsets }
        // Bounded: each element consumes input.
        repeat {
            offsets.append(try scanEntry(&scanner))
        } while try scanner.next(closer: UInt8(ascii: "]"))
        return offsets
    }

    /// `{"partition":P,"offset":O}`: the one `offset` member; others are skipped (validated).
    private static func scanEntry(_ scanner: inout JSONScanner) throws(JSONScanner.Fallback) -> UInt64 {
        try scanner.enter(UInt8(ascii: "{"))
        guard try !scanner.closesEmpty(UInt8(ascii: "}")) else { throw JSONScanner.Fallback() }
        var offset: UInt64?
        // Bounded: each member consumes input.
        repeat {
            let name = try scanner.memberName()
            if scanner.matches(name, "offset") {
                guard offset == nil else { throw JSONScanner.Fallback() }
                let value = try scanner.integer()
                guard value >= 0 else { throw JSONScanner.Fallback() }
                offset = UInt64(value)
            } else {
                try scanner.skipValue()
            }
        } while try scanner.next(closer: UInt8(ascii: "}"))
        guard let offset else { throw JSONScanner.Fallback() }
        return offset
    }
}
