/// Character classes and small grammars from RFC 9110/9112, on bytes.
enum HTTPSyntax {
    /// `tchar`: the characters allowed in methods and field names.
    static let tokenTable: [Bool] = (0..<256).map { value in
        let byte = UInt8(value)
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    @inline(__always)
    static func isTokenByte(_ byte: UInt8) -> Bool { tokenTable[Int(byte)] }

    /// `field-vchar / SP / HTAB` (obs-text allowed): anything but controls and DEL.
    @inline(__always)
    static func isFieldValueByte(_ byte: UInt8) -> Bool {
        byte == 0x09 || (byte >= 0x20 && byte != 0x7F)
    }

    /// `HTTP/1.1` → true, `HTTP/1.0` → false, anything else nil.
    static func parseVersion(_ version: UnsafeBufferPointer<UInt8>) -> Bool? {
        guard version.count == 8, looksLikeVersion(version), version[5] == UInt8(ascii: "1") else { return nil }
        switch version[7] {
        case UInt8(ascii: "1"): return true
        case UInt8(ascii: "0"): return false
        default: return nil
        }
    }

    /// `HTTP/DIGIT.DIGIT`: well-formed, possibly unsupported.
    static func looksLikeVersion(_ version: UnsafeBufferPointer<UInt8>) -> Bool {
        guard version.count == 8 else { return false }
        let prefix: [UInt8] = Array("HTTP/".utf8)
        for index in 0..<5 where version[index] != prefix[index] { return false }
        return isDigit(version[5]) && version[6] == UInt8(ascii: ".") && isDigit(version[7])
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    /// A sentinel length meaning "larger than the body budget".
    static let tooLarge = Int.max

    /// A Content-Length member: OWS digits OWS. Nil when malformed; `tooLarge` past the budget.
    static func parseDecimal(_ text: Slice<UnsafeBufferPointer<UInt8>>, bodyBytesMax: Int) -> Int? {
        var low = text.startIndex
        var high = text.endIndex
        while low < high && (text[low] == 0x20 || text[low] == 0x09) { low += 1 }
        while high > low && (text[high - 1] == 0x20 || text[high - 1] == 0x09) { high -= 1 }
        guard low < high else { return nil }
        var value = 0
        for index in low..<high {
            let byte = text[index]
            guard isDigit(byte) else { return nil }
            if value > bodyBytesMax { continue }  // keep validating digits, stop growing
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
        }
        return value > bodyBytesMax ? tooLarge : value
    }

    /// Splits a request target into path and query. Accepts origin-form, absolute-form
    /// (authority dropped) and `*` for OPTIONS. Nil for anything else, or for bytes outside
    /// visible ASCII, or a fragment.
    static func splitTarget(_ target: UnsafeBufferPointer<UInt8>, method: HTTPMethod) -> (String, String?)? {
        guard !target.isEmpty else { return nil }
        for byte in target where byte <= 0x20 || byte >= 0x7F || byte == UInt8(ascii: "#") { return nil }
        if target.count == 1 && target[0] == UInt8(ascii: "*") {
            return method == .options ? ("*", nil) : nil
        }
        var pathStart = 0
        if target[0] != UInt8(ascii: "/") {
            guard let schemeEnd = absoluteFormAuthorityStart(target) else { return nil }
            guard let slash = target[schemeEnd...].firstIndex(where: { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") }) else {
                return ("/", nil)
            }
            pathStart = slash
        }
        let rest = UnsafeBufferPointer(rebasing: target[pathStart...])
        guard let question = rest.firstIndex(of: UInt8(ascii: "?")) else {
            return (String(decoding: rest, as: UTF8.self), nil)
        }
        let path = question == 0 ? "/" : String(decoding: rest[..<question], as: UTF8.self)
        return (path, String(decoding: rest[(question + 1)...], as: UTF8.self))
    }

    /// For `http://host/…` or `https://host/…`, the index just past `://`.
    private static func absoluteFormAuthorityStart(_ target: UnsafeBufferPointer<UInt8>) -> Int? {
        for scheme in ["http://", "https://"] {
            let bytes = Array(scheme.utf8)
            if target.count > bytes.count
                && HTTPHeaders.asciiCaseInsensitiveEquals(target[..<bytes.count], bytes) {
                return bytes.count
            }
        }
        return nil
    }
}
