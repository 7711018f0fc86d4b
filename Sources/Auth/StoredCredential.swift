/// A password hash as stored: salt, iteration count and PBKDF2 output.
///
/// Its description is redacted, so an accidental `print` or string interpolation cannot write
/// the salt or hash anywhere.
struct StoredCredential: CustomStringConvertible, CustomDebugStringConvertible {
    var salt: [UInt8]
    var hash: [UInt8]
    var iterations: Int

    var description: String { "StoredCredential(redacted)" }
    var debugDescription: String { description }

    /// A fixed salt for the decoy hash of an unknown user; its value does not matter, its cost does.
    static let decoySalt = [UInt8](repeating: 0x5A, count: PasswordPolicy.saltBytes)

    /// Validates `password` and hashes it with a fresh salt at `policy.iterations`.
    static func make(password: String, policy: PasswordPolicy) throws(UserStoreError) -> StoredCredential {
        let bytes = Array(password.utf8)
        if bytes.isEmpty { throw .invalidPassword(reason: "a password cannot be empty") }
        if bytes.count > PasswordPolicy.passwordBytesMaximum {
            throw .invalidPassword(
                reason: "a password is at most \(PasswordPolicy.passwordBytesMaximum) bytes (got \(bytes.count))")
        }
        let salt = SecureRandom.bytes(count: PasswordPolicy.saltBytes)
        let hash = hash(password: bytes, salt: salt, iterations: policy.iterations)
        return StoredCredential(salt: salt, hash: hash, iterations: policy.iterations)
    }

    static func hash(password: [UInt8], salt: [UInt8], iterations: Int) -> [UInt8] {
        PBKDF2.deriveKey(
            password: password, salt: salt, iterations: iterations, outputBytes: PasswordPolicy.hashBytes)
    }
}

/// One row of the users table as read, before it is trusted.
struct StoredRow: CustomStringConvertible {
    var role: String
    var salt: [UInt8]
    var hash: [UInt8]
    var iterations: Int64
    var createdMilliseconds: Int64

    var description: String { "StoredRow(role: \(role), redacted)" }

    /// Checks the row is well formed and strong enough for `policy`.
    func validated(
        name: String, policy: PasswordPolicy
    ) throws(UserStoreError) -> (UserSummary, StoredCredential) {
        guard let role = Role(rawValue: role) else {
            throw .corruptRecord(user: name, reason: "unknown role")
        }
        guard salt.count == PasswordPolicy.saltBytes, hash.count == PasswordPolicy.hashBytes else {
            throw .corruptRecord(user: name, reason: "wrong salt or hash length")
        }
        guard iterations >= 1, iterations <= Int64(PasswordPolicy.maximumIterations) else {
            throw .corruptRecord(user: name, reason: "iteration count out of range")
        }
        if iterations < Int64(policy.verifyingIterationsMinimum) {
            throw .weakStoredHash(user: name, iterations: Int(iterations))
        }
        let summary = UserSummary(name: name, role: role, createdMilliseconds: createdMilliseconds)
        return (summary, StoredCredential(salt: salt, hash: hash, iterations: Int(iterations)))
    }
}
