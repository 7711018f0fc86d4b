import Foundation

/// What `momctl login` saves: the token, who it belongs to, where it was issued and when it
/// expires (wall-clock milliseconds, so a later run can tell without asking the server).
struct SavedLogin: Codable, Equatable, Sendable {
    var server: String
    var user: String
    var token: String
    var expiresAtMilliseconds: Int64

    enum CodingKeys: String, CodingKey {
        case server, user, token
        case expiresAtMilliseconds = "expires_at_ms"
    }
}

/// The token file: where it is, and reading and writing it with mode 0600.
///
/// Why a file: every momctl run is a new process, and logging in each time would put the
/// password in scripts. Like `~/.docker/config.json` or kubeconfig, the file is private to the
/// user: written 0600 through a temporary file and a rename (never half-written), and refused
/// when others can read it.
enum TokenStore {
    /// A token file is a few hundred bytes; a bigger file is not ours.
    static let fileBytesMaximum = 64 << 10

    /// `--token-file`, else `MOM_TOKEN_FILE`, else `$XDG_CONFIG_HOME/mom/token`, else
    /// `~/.config/mom/token`.
    static func path(override: String?, environment: [String: String]) throws(UsageError) -> String {
        if let override, !override.isEmpty { return override }
        if let variable = environment["MOM_TOKEN_FILE"], !variable.isEmpty { return variable }
        if let configuration = environment["XDG_CONFIG_HOME"], configuration.hasPrefix("/") {
            return configuration + "/mom/token"
        }
        if let home = environment["HOME"], home.hasPrefix("/") {
            return home + "/.config/mom/token"
        }
        throw UsageError(message: "no place for the token file: set HOME or XDG_CONFIG_HOME, or pass --token-file FILE")
    }

    /// Writes `login` to `path` with mode 0600 (its directory is created 0700 if missing).
    static func save(_ login: SavedLogin, to path: String) throws(RuntimeFailure) {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty, !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(
                    atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw RuntimeFailure(message: "cannot create \(directory) for the token file: \(error.localizedDescription)")
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(login) else { throw RuntimeFailure(message: "cannot encode the token") }
        let temporary = path + ".tmp-\(getpid())"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw failure("cannot create", temporary) }
        // The mode is set explicitly: open's mode is filtered by the umask, and the file must be 0600 exactly.
        var ok = fchmod(descriptor, 0o600) == 0
        ok = ok && data.withUnsafeBytes { writeAll(descriptor, $0) }
        ok = ok && fsync(descriptor) == 0
        let failed = ok ? nil : failure("cannot write", temporary)
        close(descriptor)
        if let failed {
            unlink(temporary)
            throw failed
        }
        guard rename(temporary, path) == 0 else {
            let failed = failure("cannot rename the token file to", path)
            unlink(temporary)
            throw failed
        }
    }

    /// The saved login, or nil when there is no file. A file others can read, or one that is
    /// not a token file, is refused with a message saying how to fix it.
    static func load(from path: String) throws(RuntimeFailure) -> SavedLogin? {
        var status = stat()
        guard stat(path, &status) == 0 else {
            if errno == ENOENT { return nil }
            throw failure("cannot read the token file", path)
        }
        let permissions = status.st_mode & 0o777
        if permissions & 0o077 != 0 {
            throw RuntimeFailure(
                message: "the token file \(path) has mode 0\(String(permissions, radix: 8)), so others may read it; "
                    + "run 'chmod 600 \(path)' or log in again")
        }
        guard Int(status.st_size) <= fileBytesMaximum,
              let data = FileManager.default.contents(atPath: path)
        else {
            throw RuntimeFailure(message: "cannot read the token file \(path) (missing or larger than \(fileBytesMaximum) bytes)")
        }
        guard let login = try? JSONDecoder().decode(SavedLogin.self, from: data) else {
            throw RuntimeFailure(message: "\(path) is not a momctl token file; delete it and run 'momctl login' again")
        }
        return login
    }

    /// Deletes the token file; false when there was none.
    static func remove(at path: String) throws(RuntimeFailure) -> Bool {
        if unlink(path) == 0 { return true }
        if errno == ENOENT { return false }
        throw failure("cannot delete", path)
    }

    private static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var written = 0
        while written < bytes.count {
            let count = write(descriptor, bytes.baseAddress! + written, bytes.count - written)
            if count < 0 {
                if errno == EINTR { continue }
                return false
            }
            written += count
        }
        return true
    }

    private static func failure(_ action: String, _ path: String) -> RuntimeFailure {
        RuntimeFailure(message: "\(action) \(path): \(String(cString: strerror(errno)))")
    }
}
