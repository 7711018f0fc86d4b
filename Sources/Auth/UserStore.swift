import CSQLite
import MOMCore
import Synchronization

/// What may be shown about a user: never the salt or the hash.
public struct UserSummary: Sendable, Equatable {
    /// The user's name.
    public var name: String
    /// The user's role.
    public var role: Role
    /// When the user was added, in milliseconds since the Unix epoch.
    public var createdMilliseconds: Int64

    /// Creates a summary.
    public init(name: String, role: Role, createdMilliseconds: Int64) {
        self.name = name
        self.role = role
        self.createdMilliseconds = createdMilliseconds
    }
}

/// Users and their password hashes in an SQLite file (`--users-db`), shared by momd and momctl.
///
/// Each password is stored as PBKDF2-HMAC-SHA256 with a per-user 16-byte random salt, its
/// iteration count and a 32-byte hash; verification compares in constant time. The file is kept
/// at mode 0600 (see `DatabaseFile`). Thread-safe: one connection behind a mutex, and the
/// expensive hashing runs outside the lock so logins do not queue behind one another.
public final class UserStore: Sendable {
    /// The database file.
    public let path: String
    /// The cost of new hashes and the floor for stored ones.
    public let policy: PasswordPolicy
    /// The permission bits the file had if they were looser than 0600 and were tightened on open.
    public let repairedFileMode: UInt32?
    /// Most users `list()` returns: a bound on the loop, far above any real deployment.
    public static let listedUsersMaximum = 100_000

    private let clock: any Clock
    private let connection: Mutex<SQLiteConnection>

    /// Opens the users database at `path`, creating it (mode 0600) when `createIfMissing` is true.
    /// Writers wait up to `busyTimeoutMilliseconds` for another process's transaction.
    public init(
        path: String, createIfMissing: Bool = true, policy: PasswordPolicy = .production,
        clock: any Clock, busyTimeoutMilliseconds: Int32 = 5_000
    ) throws(UserStoreError) {
        let file = try DatabaseFile(path: path, createIfMissing: createIfMissing)
        let opened: SQLiteConnection
        do {
            opened = try SQLiteConnection(path: path, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
        } catch {
            throw Self.mapped(error, path: path)
        }
        try DatabaseFile.confirm(path: path, is: file.identity)
        do {
            // DELETE mode removes the journal after each transaction, so no sidecar file lingers;
            // secure_delete overwrites the bytes of removed hashes instead of leaving them in free pages.
            try opened.execute("PRAGMA journal_mode = DELETE")
            try opened.execute("PRAGMA secure_delete = ON")
            try opened.execute("""
                CREATE TABLE IF NOT EXISTS users(
                    name TEXT PRIMARY KEY NOT NULL,
                    role TEXT NOT NULL,
                    salt BLOB NOT NULL,
                    hash BLOB NOT NULL,
                    iterations INTEGER NOT NULL,
                    created_ms INTEGER NOT NULL)
                """)
        } catch {
            throw Self.mapped(error, path: path)
        }
        self.path = path
        self.policy = policy
        self.repairedFileMode = file.repairedMode
        self.clock = clock
        self.connection = Mutex(opened)
    }

    /// Adds a user. Throws `userExists` if the name is taken.
    public func add(name: String, password: String, role: Role) throws(UserStoreError) {
        let userName = try UserName(name)
        let credential = try StoredCredential.make(password: password, policy: policy)
        let createdMilliseconds = clock.wallMilliseconds()
        try withConnection { connection throws(SQLiteError) in
            let statement = try connection.prepare(
                "INSERT INTO users(name, role, salt, hash, iterations, created_ms) VALUES (?, ?, ?, ?, ?, ?)")
            try statement.bind(userName.rawValue, at: 1)
            try statement.bind(role.rawValue, at: 2)
            try statement.bind(credential.salt, at: 3)
            try statement.bind(credential.hash, at: 4)
            try statement.bind(Int64(credential.iterations), at: 5)
            try statement.bind(createdMilliseconds, at: 6)
            _ = try statement.step()
        } onConstraintViolation: {
            .userExists(userName.rawValue)
        }
    }

    /// Every user, sorted by name.
    public func list() throws(UserStoreError) -> [UserSummary] {
        let rows = try withConnection { connection throws(SQLiteError) -> [(String, String, Int64)] in
            let statement = try connection.prepare(
                "SELECT name, role, created_ms FROM users ORDER BY name LIMIT ?")
            try statement.bind(Int64(Self.listedUsersMaximum), at: 1)
            var rows: [(String, String, Int64)] = []
            while try statement.step() {
                rows.append((statement.text(at: 0), statement.text(at: 1), statement.integer(at: 2)))
            }
            return rows
        }
        var users: [UserSummary] = []
        users.reserveCapacity(rows.count)
        for (name, roleName, createdMilliseconds) in rows {
            guard let role = Role(rawValue: roleName) else {
                throw .corruptRecord(user: name, reason: "unknown role")
            }
            users.append(UserSummary(name: name, role: role, createdMilliseconds: createdMilliseconds))
        }
        return users
    }

    /// Removes a user. Throws `userNotFound` if there is none by that name.
    public func remove(name: String) throws(UserStoreError) {
        let userName = try UserName(name)
        let changed = try withConnection { connection throws(SQLiteError) -> Int in
            let statement = try connection.prepare("DELETE FROM users WHERE name = ?")
            try statement.bind(userName.rawValue, at: 1)
            _ = try statement.step()
            return connection.changedRowCount
        }
        if changed == 0 { throw .userNotFound(userName.rawValue) }
    }

    /// Replaces a user's password with a fresh salt and hash at the policy's cost.
    public func setPassword(name: String, password: String) throws(UserStoreError) {
        let userName = try UserName(name)
        let credential = try StoredCredential.make(password: password, policy: policy)
        let changed = try withConnection { connection throws(SQLiteError) -> Int in
            let statement = try connection.prepare(
                "UPDATE users SET salt = ?, hash = ?, iterations = ? WHERE name = ?")
            try statement.bind(credential.salt, at: 1)
            try statement.bind(credential.hash, at: 2)
            try statement.bind(Int64(credential.iterations), at: 3)
            try statement.bind(userName.rawValue, at: 4)
            _ = try statement.step()
            return connection.changedRowCount
        }
        if changed == 0 { throw .userNotFound(userName.rawValue) }
    }

    /// Checks a name and password; returns the user on success.
    ///
    /// A wrong password and an unknown name both throw `invalidCredentials`, and an unknown name
    /// still costs one full hash, so neither the answer nor its timing tells whether the user
    /// exists. `weakStoredHash` and `corruptRecord` are for the operator's log: the REST layer
    /// should answer them with the same 401 text as `invalidCredentials`.
    public func verify(name: String, password: String) throws(UserStoreError) -> UserSummary {
        let passwordBytes = Array(password.utf8)
        guard let userName = try? UserName(name),
            !passwordBytes.isEmpty, passwordBytes.count <= PasswordPolicy.passwordBytesMaximum
        else {
            throw .invalidCredentials
        }
        guard let row = try fetchCredential(userName) else {
            _ = StoredCredential.hash(
                password: passwordBytes, salt: StoredCredential.decoySalt, iterations: policy.iterations)
            throw .invalidCredentials
        }
        let (summary, credential) = try row.validated(name: userName.rawValue, policy: policy)
        let candidate = StoredCredential.hash(
            password: passwordBytes, salt: credential.salt, iterations: credential.iterations)
        guard ConstantTime.equals(candidate, credential.hash) else { throw .invalidCredentials }
        return summary
    }

    /// The raw stored row, for `verify` and tests that check what reaches the disk.
    func fetchCredential(_ userName: UserName) throws(UserStoreError) -> StoredRow? {
        try withConnection { connection throws(SQLiteError) -> StoredRow? in
            let statement = try connection.prepare(
                "SELECT role, salt, hash, iterations, created_ms FROM users WHERE name = ?")
            try statement.bind(userName.rawValue, at: 1)
            guard try statement.step() else { return nil }
            return StoredRow(
                role: statement.text(at: 0), salt: statement.blob(at: 1), hash: statement.blob(at: 2),
                iterations: statement.integer(at: 3), createdMilliseconds: statement.integer(at: 4))
        }
    }

    private func withConnection<Result: Sendable>(
        _ body: (SQLiteConnection) throws(SQLiteError) -> Result,
        onConstraintViolation: () -> UserStoreError? = { nil }
    ) throws(UserStoreError) -> Result {
        do {
            return try connection.withLock { connection throws(SQLiteError) -> Result in
                try body(connection)
            }
        } catch {
            if error.code & 0xFF == SQLITE_CONSTRAINT, let mapped = onConstraintViolation() {
                throw mapped
            }
            throw Self.mapped(error, path: path)
        }
    }

    private static func mapped(_ error: SQLiteError, path: String) -> UserStoreError {
        .database(path: path, operation: error.operation, code: error.code, message: error.message)
    }
}
