/// The HS256 secret shared by every node (from `MOM_SECRET_KEY`), so a token issued by one node
/// verifies on all of them.
public struct SigningKey: Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The shortest key accepted, in bytes: HS256's security needs a key at least as long as its
    /// 256-bit output (RFC 7518 §3.2).
    public static let bytesMinimum = 32

    let bytes: [UInt8]

    /// Wraps raw key bytes. Throws when there are fewer than 32.
    public init(bytes: [UInt8]) throws(SigningKeyError) {
        guard bytes.count >= Self.bytesMinimum else { throw .tooShort(bytes: bytes.count) }
        self.bytes = bytes
    }

    /// Uses the UTF-8 bytes of `secret` (the text of `MOM_SECRET_KEY`) as the key.
    public init(secret: String) throws(SigningKeyError) {
        try self.init(bytes: Array(secret.utf8))
    }

    // Redacted so the key never reaches a log through string interpolation.
    public var description: String { "SigningKey(\(bytes.count) bytes, redacted)" }
    public var debugDescription: String { description }
}

/// Why a signing key was refused.
public enum SigningKeyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The key has fewer than `SigningKey.bytesMinimum` bytes.
    case tooShort(bytes: Int)

    public var description: String {
        switch self {
        case .tooShort(let bytes):
            return "MOM_SECRET_KEY must be at least \(SigningKey.bytesMinimum) bytes (got \(bytes)); "
                + "generate one with 'openssl rand -base64 48'"
        }
    }
}
