import CCrypto

/// HMAC-SHA256 (RFC 2104) from libcrypto: the JWT HS256 signature. Never hand-rolled.
public enum HMACSHA256 {
    /// The length of a tag, in bytes.
    public static let tagBytes = 32

    /// Computes the 32-byte tag of `message` under `key`.
    ///
    /// The one-shot `HMAC()` is the libcrypto 3.0 entry point that is not deprecated, and it keeps
    /// no state between calls, so the function is safe from any thread.
    public static func authenticationCode(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var tag = [UInt8](repeating: 0, count: tagBytes)
        var tagLength: UInt32 = 0
        let result = key.withUnsafeBytes { keyBuffer in
            message.withUnsafeBytes { messageBuffer in
                tag.withUnsafeMutableBytes { tagBuffer in
                    HMAC(
                        EVP_sha256(),
                        keyBuffer.baseAddress, Int32(keyBuffer.count),
                        messageBuffer.baseAddress?.assumingMemoryBound(to: UInt8.self), messageBuffer.count,
                        tagBuffer.baseAddress?.assumingMemoryBound(to: UInt8.self), &tagLength)
                }
            }
        }
        // libcrypto fails here only when it cannot allocate or its SHA-256 provider is missing:
        // the process cannot authenticate anything, which is not a per-request error to recover from.
        precondition(result != nil && tagLength == UInt32(tagBytes), "libcrypto HMAC-SHA256 failed")
        return tag
    }
}

/// Byte comparisons whose time does not depend on where the inputs differ.
public enum ConstantTime {
    /// True when `left` and `right` hold the same bytes. The lengths are public (a tag or hash has
    /// a fixed length), so differing lengths return false at once; equal lengths go through
    /// `CRYPTO_memcmp`, which reads every byte whatever it finds.
    public static func equals(_ left: [UInt8], _ right: [UInt8]) -> Bool {
        if left.count != right.count { return false }
        if left.isEmpty { return true }
        return left.withUnsafeBytes { leftBuffer in
            right.withUnsafeBytes { rightBuffer in
                CRYPTO_memcmp(leftBuffer.baseAddress, rightBuffer.baseAddress, leftBuffer.count) == 0
            }
        }
    }
}

/// Random bytes from libcrypto's CSPRNG (`RAND_bytes`), for salts.
///
/// MOMCore's `RandomSource` is for replayable simulation; a salt must be unpredictable instead.
public enum SecureRandom {
    /// `count` bytes from `RAND_bytes`. A failure means the CSPRNG could not be seeded, so
    /// continuing would produce guessable salts: the function traps rather than degrade.
    public static func bytes(count: Int) -> [UInt8] {
        precondition(count >= 0 && count <= Int(Int32.max), "SecureRandom.bytes(count: \(count))")
        var output = [UInt8](repeating: 0, count: count)
        if count == 0 { return output }
        let result = output.withUnsafeMutableBytes { buffer in
            RAND_bytes(buffer.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(count))
        }
        precondition(result == 1, "libcrypto RAND_bytes failed: the CSPRNG is not seeded")
        return output
    }
}
