/// Why a user-store operation failed. Each case names the thing and, where there is one, the fix.
///
/// No case ever carries a password, a salt or a hash, so printing or logging any of these errors
/// cannot leak a credential.
public enum UserStoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The user name is not 1–64 bytes of `[A-Za-z0-9._-]`.
    case invalidName(reason: String)
    /// The password is empty, too long or not UTF-8. The reason never quotes the password.
    case invalidPassword(reason: String)
    /// A user with this name exists already.
    case userExists(String)
    /// No user has this name.
    case userNotFound(String)
    /// The name or the password is wrong. One case for both, so a caller cannot tell which.
    case invalidCredentials
    /// The stored hash uses fewer iterations than the policy accepts.
    case weakStoredHash(user: String, iterations: Int)
    /// A stored row cannot be used (unknown role, wrong salt or hash length, absurd iteration count).
    case corruptRecord(user: String, reason: String)
    /// A policy asked for fewer than 210,000 (or more than 10,000,000) iterations.
    case weakPasswordPolicy(iterations: Int)
    /// The database file does not exist and the caller asked not to create it.
    case databaseMissing(path: String)
    /// The database file (or its journal) is not a safe regular file private to its owner.
    case insecureFile(path: String, reason: String)
    /// A system call on the database file failed.
    case fileSystem(path: String, operation: String, errno: Int32)
    /// SQLite reported an error.
    case database(path: String, operation: String, code: Int32, message: String)

    /// A stable machine-readable code, for JSON error bodies.
    public var code: String {
        switch self {
        case .invalidName, .invalidPassword, .weakPasswordPolicy: return "bad_request"
        case .userExists: return "already_exists"
        case .userNotFound: return "not_found"
        case .invalidCredentials, .weakStoredHash: return "unauthorized"
        case .corruptRecord, .databaseMissing, .insecureFile, .fileSystem, .database: return "internal"
        }
    }

    /// The HTTP status this error maps to when it reaches the REST API.
    public var httpStatus: Int {
        switch self {
        case .invalidName, .invalidPassword, .weakPasswordPolicy: return 400
        case .userExists: return 409
        case .userNotFound: return 404
        case .invalidCredentials, .weakStoredHash: return 401
        case .corruptRecord, .databaseMissing, .insecureFile, .fileSystem, .database: return 500
        }
    }

    /// The text to send to an unauthenticated client. Failed logins all read the same, whatever
    /// the cause, and server-side failures do not reveal paths or SQLite details; the full
    /// `description` is for the operator's log.
    public var clientMessage: String {
        switch self {
        case .invalidCredentials, .weakStoredHash, .corruptRecord:
            return UserStoreError.invalidCredentials.description
        case .databaseMissing, .insecureFile, .fileSystem, .database:
            return "the users database is unavailable; see the server log"
        case .invalidName, .invalidPassword, .userExists, .userNotFound, .weakPasswordPolicy:
            return description
        }
    }

    public var description: String {
        switch self {
        case .invalidName(let reason):
            return "invalid user name: \(reason)"
        case .invalidPassword(let reason):
            return "invalid password: \(reason)"
        case .userExists(let name):
            return "user '\(name)' already exists; change its password with 'momctl user passwd \(name)'"
        case .userNotFound(let name):
            return "user '\(name)' does not exist; list users with 'momctl user list'"
        case .invalidCredentials:
            return "invalid user name or password"
        case .weakStoredHash(let user, let iterations):
            return "the stored password of user '\(user)' uses \(iterations) PBKDF2 iterations, fewer than "
                + "the required \(PasswordPolicy.minimumIterations); reset it with 'momctl user passwd \(user)'"
        case .corruptRecord(let user, let reason):
            return "the stored record of user '\(user)' is corrupt (\(reason)); remove and re-add the user"
        case .weakPasswordPolicy(let iterations):
            return "a password policy needs \(PasswordPolicy.minimumIterations) to "
                + "\(PasswordPolicy.maximumIterations) PBKDF2 iterations (got \(iterations))"
        case .databaseMissing(let path):
            return "users database '\(path)' does not exist; create it by adding a user with 'momctl user add'"
        case .insecureFile(let path, let reason):
            return "refusing to use users database '\(path)': \(reason)"
        case .fileSystem(let path, let operation, let errno):
            return "\(operation) '\(path)' failed: \(ErrnoText.describe(errno))"
        case .database(let path, let operation, let code, let message):
            return "users database '\(path)': \(operation) failed: \(message) (SQLite code \(code))"
        }
    }
}
