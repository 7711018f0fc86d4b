import CCrypto

/// PBKDF2-HMAC-SHA256 (RFC 8018 §5.2) from libcrypto, and the policy for its cost.
public enum PBKDF2 {
    /// Derives `outputBytes` bytes from `password` and `salt` with `iterations` rounds of
    /// HMAC-SHA256, using libcrypto's `PKCS5_PBKDF2_HMAC`.
    public static func deriveKey(
        password: [UInt8], salt: [UInt8], iterations: Int, outputBytes: Int
    ) -> [UInt8] {
        precondition(iterations >= 1 && iterations <= Int(Int32.max), "PBKDF2 iterations \(iterations)")
        precondition(outputBytes >= 1 && outputBytes <= 1024, "PBKDF2 output \(outputBytes) bytes")
        precondition(password.count <= Int(Int32.max) && salt.count <= Int(Int32.max))
        var output = [UInt8](repeating: 0, count: outputBytes)
        let result = password.withUnsafeBytes { passwordBuffer in
            salt.withUnsafeBytes { saltBuffer in
                output.withUnsafeMutableBytes { outputBuffer in
                    PKCS5_PBKDF2_HMAC(
                        passwordBuffer.baseAddress?.assumingMemoryBound(to: CChar.self),
                        Int32(passwordBuffer.count),
                        saltBuffer.baseAddress?.assumingMemoryBound(to: UInt8.self),
                        Int32(saltBuffer.count),
                        Int32(iterations), EVP_sha256(), Int32(outputBytes),
                        outputBuffer.baseAddress?.assumingMemoryBound(to: UInt8.self))
                }
            }
        }
        // Fails only on allocation failure or a missing SHA-256 provider; nothing to recover.
        precondition(result == 1, "libcrypto PKCS5_PBKDF2_HMAC failed")
        return output
    }
}

/// How expensive a stored password hash is, and the floor below which MOM refuses one.
///
/// 210,000 iterations of PBKDF2-HMAC-SHA256 is OWASP's 2023 recommendation. The floor applies both
/// when hashing and when verifying: a production store refuses to accept a row whose hash is
/// weaker, so a lowered cost cannot slip in through the database file or a test setting.
public struct PasswordPolicy: Sendable, Equatable {
    /// The production minimum (and default) number of PBKDF2 iterations.
    public static let minimumIterations = 210_000
    /// The largest iteration count accepted from a stored row: a tampered row cannot make a login
    /// burn the CPU for minutes.
    public static let maximumIterations = 10_000_000
    /// The salt length, in bytes: 128 bits, per-user, from `RAND_bytes`.
    public static let saltBytes = 16
    /// The derived hash length, in bytes: SHA-256's output size.
    public static let hashBytes = 32
    /// The longest password accepted, in bytes. PBKDF2 hashes any length, but an unbounded input
    /// is a denial-of-service lever on the login endpoint.
    public static let passwordBytesMaximum = 1024

    /// The iteration count used for new and changed passwords.
    public let iterations: Int
    /// The smallest iteration count this policy accepts when verifying a stored hash.
    public let verifyingIterationsMinimum: Int

    /// The production policy: 210,000 iterations, and nothing weaker is accepted.
    public static let production = PasswordPolicy(
        checkedIterations: minimumIterations, verifyingIterationsMinimum: minimumIterations)

    /// A policy with `iterations` ≥ 210,000. Throws for anything weaker.
    public init(iterations: Int) throws(UserStoreError) {
        guard iterations >= Self.minimumIterations, iterations <= Self.maximumIterations else {
            throw .weakPasswordPolicy(iterations: iterations)
        }
        self.init(checkedIterations: iterations, verifyingIterationsMinimum: Self.minimumIterations)
    }

    /// A deliberately weak policy so unit tests do not spend 100 ms per hash. It is named so that
    /// it stands out in review; nothing in momd or momctl constructs it.
    public static func insecureForTestsOnly(iterations: Int) -> PasswordPolicy {
        precondition(iterations >= 1 && iterations <= maximumIterations)
        return PasswordPolicy(checkedIterations: iterations, verifyingIterationsMinimum: 1)
    }

    private init(checkedIterations: Int, verifyingIterationsMinimum: Int) {
        self.iterations = checkedIterations
        self.verifyingIterationsMinimum = verifyingIterationsMinimum
    }
}
