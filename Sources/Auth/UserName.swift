/// A validated user name: 1 to 64 bytes of `[A-Za-z0-9._-]`, not starting with '-'.
///
/// The narrow alphabet keeps names safe to print in a terminal, in logs and in JSON without
/// escaping, and keeps them from looking like paths or options.
public struct UserName: Sendable, Hashable, CustomStringConvertible {
    /// The longest name, in bytes.
    public static let bytesMaximum = 64

    /// The name itself.
    public let rawValue: String

    /// Validates `rawValue`, throwing `UserStoreError.invalidName` with the reason.
    public init(_ rawValue: String) throws(UserStoreError) {
        let bytes = rawValue.utf8
        if bytes.isEmpty { throw .invalidName(reason: "a user name cannot be empty") }
        if bytes.count > Self.bytesMaximum {
            throw .invalidName(reason: "a user name is at most \(Self.bytesMaximum) bytes (got \(bytes.count))")
        }
        if bytes.first == UInt8(ascii: "-") {
            throw .invalidName(reason: "a user name cannot start with '-', which reads as an option")
        }
        for byte in bytes where !Self.isAllowed(byte) {
            throw .invalidName(
                reason: "a user name may contain only letters, digits, '.', '_' and '-'")
        }
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }
}
