/// An ordered list of header fields with case-insensitive lookup by name.
///
/// Fields live in one byte array plus an index of offsets, so parsing a request allocates two
/// arrays however many headers it has; a `String` is made only when a handler asks for a value.
public struct HTTPHeaders: Sendable, Sequence {
    /// Where one field's name and value sit inside `bytes`. The value follows the name directly.
    struct Field: Sendable {
        var nameStart: Int32
        var nameEnd: Int32
        var valueEnd: Int32
    }

    private(set) var bytes: [UInt8] = []
    private(set) var fields: [Field] = []

    /// An empty header list.
    public init() {}

    /// A header list from name/value pairs, in order.
    public init(_ pairs: [(String, String)]) {
        for (name, value) in pairs { add(name: name, value: value) }
    }

    /// The number of fields (a repeated name counts once per occurrence).
    public var count: Int { fields.count }

    /// Appends a field. CR, LF and NUL in the name or value are replaced by a space, so a value
    /// taken from user input can never inject a header or split the response.
    public mutating func add(name: String, value: String) {
        let start = bytes.count
        appendSanitized(name.utf8)
        let nameEnd = bytes.count
        appendSanitized(value.utf8)
        fields.append(Field(nameStart: Int32(start), nameEnd: Int32(nameEnd), valueEnd: Int32(bytes.count)))
    }

    /// Replaces every field named `name` with one field carrying `value`.
    public mutating func set(name: String, value: String) {
        remove(name: name)
        add(name: name, value: value)
    }

    /// Removes every field named `name` (case-insensitive).
    public mutating func remove(name: String) {
        guard contains(name) else { return }
        var kept = HTTPHeaders()
        for field in self where !Self.asciiCaseInsensitiveEquals(field.name.utf8, name.utf8) {
            kept.add(name: field.name, value: field.value)
        }
        self = kept
    }

    /// The first value for `name` (case-insensitive), or nil.
    public subscript(name: String) -> String? {
        guard let index = firstIndex(named: name) else { return nil }
        return value(at: index)
    }

    /// Every value for `name`, in order.
    public func values(named name: String) -> [String] {
        var result: [String] = []
        for index in fields.indices where nameMatches(index, name) { result.append(value(at: index)) }
        return result
    }

    /// Whether a field named `name` is present.
    public func contains(_ name: String) -> Bool { firstIndex(named: name) != nil }

    /// Calls `body` with each field's name and value bytes, in order, without making strings.
    public func forEachField(_ body: (_ name: UnsafeBufferPointer<UInt8>, _ value: UnsafeBufferPointer<UInt8>) throws -> Void) rethrows {
        try bytes.withUnsafeBufferPointer { all in
            for field in fields {
                try body(
                    UnsafeBufferPointer(rebasing: all[Int(field.nameStart)..<Int(field.nameEnd)]),
                    UnsafeBufferPointer(rebasing: all[Int(field.nameEnd)..<Int(field.valueEnd)]))
            }
        }
    }

    /// Iterates the fields in order as `(name, value)` strings.
    public func makeIterator() -> AnyIterator<(name: String, value: String)> {
        var index = 0
        return AnyIterator {
            guard index < fields.count else { return nil }
            defer { index += 1 }
            return (name: name(at: index), value: value(at: index))
        }
    }

    /// A copy without the hop-by-hop fields (RFC 9110 §7.6.1) and framing fields, for
    /// forwarding a request to another node: `Connection`, the fields it names, `Keep-Alive`,
    /// `Proxy-Connection`, `TE`, `Trailer`, `Transfer-Encoding`, `Upgrade`, `Content-Length`
    /// and `Host` (the client sets the last two for the new hop).
    public func removingHopByHopFields() -> HTTPHeaders {
        var dropped: Set<String> = [
            "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
            "content-length", "host",
        ]
        for value in values(named: "connection") {
            for token in value.split(separator: ",") {
                dropped.insert(String(token.filter { $0 != " " && $0 != "\t" }).lowercased())
            }
        }
        var kept = HTTPHeaders()
        for field in self where !dropped.contains(field.name.lowercased()) {
            kept.add(name: field.name, value: field.value)
        }
        return kept
    }

    // MARK: Internal, allocation-free access for the parser and serializer.

    /// Appends a field from raw bytes the parser has already validated.
    mutating func appendValidated(name: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) {
        let start = bytes.count
        bytes.append(contentsOf: name)
        let nameEnd = bytes.count
        bytes.append(contentsOf: value)
        fields.append(Field(nameStart: Int32(start), nameEnd: Int32(nameEnd), valueEnd: Int32(bytes.count)))
    }

    mutating func reserve(bytes byteCount: Int, fields fieldCount: Int) {
        bytes.reserveCapacity(byteCount)
        fields.reserveCapacity(fieldCount)
    }

    func firstIndex(named name: String) -> Int? {
        for index in fields.indices where nameMatches(index, name) { return index }
        return nil
    }

    func nameMatches(_ index: Int, _ name: String) -> Bool {
        let field = fields[index]
        return bytes.withUnsafeBufferPointer { buffer in
            let slice = UnsafeBufferPointer(rebasing: buffer[Int(field.nameStart)..<Int(field.nameEnd)])
            return Self.asciiCaseInsensitiveEquals(slice, name.utf8)
        }
    }

    func name(at index: Int) -> String {
        let field = fields[index]
        return String(decoding: bytes[Int(field.nameStart)..<Int(field.nameEnd)], as: UTF8.self)
    }

    func value(at index: Int) -> String {
        let field = fields[index]
        return String(decoding: bytes[Int(field.nameEnd)..<Int(field.valueEnd)], as: UTF8.self)
    }

    /// Calls `body` with the value bytes of every field named `name`.
    func forEachValue(named name: String, _ body: (UnsafeBufferPointer<UInt8>) -> Void) {
        bytes.withUnsafeBufferPointer { buffer in
            for field in fields {
                let nameSlice = UnsafeBufferPointer(rebasing: buffer[Int(field.nameStart)..<Int(field.nameEnd)])
                if Self.asciiCaseInsensitiveEquals(nameSlice, name.utf8) {
                    body(UnsafeBufferPointer(rebasing: buffer[Int(field.nameEnd)..<Int(field.valueEnd)]))
                }
            }
        }
    }

    /// Whether any field named `name` holds `token` in its comma-separated list
    /// (case-insensitive), e.g. `Connection: keep-alive, Upgrade` holds `upgrade`.
    func containsToken(_ token: String, inFieldNamed name: String) -> Bool {
        var found = false
        forEachValue(named: name) { value in
            var start = 0
            while start <= value.count && !found {
                var end = start
                while end < value.count && value[end] != UInt8(ascii: ",") { end += 1 }
                var low = start
                var high = end
                while low < high && (value[low] == 0x20 || value[low] == 0x09) { low += 1 }
                while high > low && (value[high - 1] == 0x20 || value[high - 1] == 0x09) { high -= 1 }
                if Self.asciiCaseInsensitiveEquals(UnsafeBufferPointer(rebasing: value[low..<high]), token.utf8) {
                    found = true
                }
                start = end + 1
            }
        }
        return found
    }

    private mutating func appendSanitized(_ text: String.UTF8View) {
        if !text.contains(where: { $0 == 0x0D || $0 == 0x0A || $0 == 0 }) {
            bytes.append(contentsOf: text)  // the common case: one bulk copy
            return
        }
        for byte in text {
            bytes.append(byte == 0x0D || byte == 0x0A || byte == 0 ? 0x20 : byte)
        }
    }

    static func asciiCaseInsensitiveEquals<A: Collection<UInt8>, B: Collection<UInt8>>(_ left: A, _ right: B) -> Bool {
        guard left.count == right.count else { return false }
        var rightIndex = right.startIndex
        for byte in left {
            if asciiLowercase(byte) != asciiLowercase(right[rightIndex]) { return false }
            rightIndex = right.index(after: rightIndex)
        }
        return true
    }

    @inline(__always)
    static func asciiLowercase(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }
}
