import CSQLite

/// An SQLite failure: the result code, the operation and SQLite's message.
struct SQLiteError: Error {
    var code: Int32
    var operation: String
    var message: String
}

/// A thin owner of one `sqlite3*` handle: prepared statements with bound parameters only, so no
/// value is ever spliced into SQL text. Not thread-safe; `UserStore` serializes access.
final class SQLiteConnection {
    private let handle: OpaquePointer

    /// Opens an existing file read-write. `SQLITE_OPEN_NOFOLLOW` refuses a symbolic link, and the
    /// file is not created here: `DatabaseFile` has created it with mode 0600 already.
    init(path: String, busyTimeoutMilliseconds: Int32) throws(SQLiteError) {
        var opened: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | SQLITE_OPEN_NOFOLLOW
            | SQLITE_OPEN_EXRESCODE
        let code = sqlite3_open_v2(path, &opened, flags, nil)
        guard let opened else {
            throw SQLiteError(code: code, operation: "open", message: "out of memory")
        }
        if code != SQLITE_OK {
            let message = String(cString: sqlite3_errmsg(opened))
            sqlite3_close_v2(opened)
            throw SQLiteError(code: code, operation: "open", message: message)
        }
        self.handle = opened
        // Concurrent writers (momctl while momd runs) wait instead of failing at once.
        sqlite3_busy_timeout(handle, busyTimeoutMilliseconds)
    }

    deinit {
        sqlite3_close_v2(handle)
    }

    /// Runs SQL that takes no parameters and returns no rows we need (schema, pragmas, BEGIN).
    func execute(_ sql: String) throws(SQLiteError) {
        let statement = try prepare(sql)
        while try statement.step() {}
    }

    /// Compiles one statement.
    func prepare(_ sql: String) throws(SQLiteError) -> SQLiteStatement {
        var compiled: OpaquePointer?
        let code = sqlite3_prepare_v2(handle, sql, -1, &compiled, nil)
        guard code == SQLITE_OK, let compiled else {
            throw error(code: code, operation: "prepare")
        }
        return SQLiteStatement(handle: compiled, connection: self)
    }

    /// How many rows the last INSERT, UPDATE or DELETE changed.
    var changedRowCount: Int { Int(sqlite3_changes(handle)) }

    func error(code: Int32, operation: String) -> SQLiteError {
        SQLiteError(code: code, operation: operation, message: String(cString: sqlite3_errmsg(handle)))
    }
}

/// One prepared statement. Finalized when released.
final class SQLiteStatement {
    private let handle: OpaquePointer
    // Keeps the connection open while the statement lives.
    private let connection: SQLiteConnection

    fileprivate init(handle: OpaquePointer, connection: SQLiteConnection) {
        self.handle = handle
        self.connection = connection
    }

    deinit {
        sqlite3_finalize(handle)
    }

    /// Binds text to the 1-based parameter `index`. SQLITE_TRANSIENT makes SQLite copy the bytes,
    /// because Swift's buffer is valid only inside this call.
    func bind(_ text: String, at index: Int32) throws(SQLiteError) {
        let code = sqlite3_bind_text(handle, index, text, -1, mom_sqlite_transient())
        if code != SQLITE_OK { throw connection.error(code: code, operation: "bind") }
    }

    /// Binds a blob (copied by SQLite) to the 1-based parameter `index`.
    func bind(_ bytes: [UInt8], at index: Int32) throws(SQLiteError) {
        let code = bytes.withUnsafeBytes { buffer in
            // A zero-length blob must still be a blob, not NULL: give SQLite a valid pointer.
            sqlite3_bind_blob(handle, index, buffer.baseAddress ?? UnsafeRawPointer(bitPattern: 1),
                              Int32(buffer.count), mom_sqlite_transient())
        }
        if code != SQLITE_OK { throw connection.error(code: code, operation: "bind") }
    }

    /// Binds a 64-bit integer to the 1-based parameter `index`.
    func bind(_ value: Int64, at index: Int32) throws(SQLiteError) {
        let code = sqlite3_bind_int64(handle, index, value)
        if code != SQLITE_OK { throw connection.error(code: code, operation: "bind") }
    }

    /// Advances; true when a row is ready to read, false when the statement is done.
    func step() throws(SQLiteError) -> Bool {
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw connection.error(code: code, operation: "step")
        }
    }

    /// The text in 0-based column `index` of the current row ("" for NULL).
    func text(at index: Int32) -> String {
        guard let pointer = sqlite3_column_text(handle, index) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, index))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    /// The blob in 0-based column `index` of the current row (empty for NULL).
    func blob(at index: Int32) -> [UInt8] {
        guard let pointer = sqlite3_column_blob(handle, index) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, index))
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// The integer in 0-based column `index` of the current row.
    func integer(at index: Int32) -> Int64 {
        sqlite3_column_int64(handle, index)
    }

    /// The storage class of 0-based column `index` (SQLITE_INTEGER, SQLITE_BLOB, ...).
    func type(at index: Int32) -> Int32 {
        sqlite3_column_type(handle, index)
    }
}
