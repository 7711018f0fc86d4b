import Auth
import Foundation

/// Reads a password from standard input for `--password-stdin`.
///
/// The password never comes from the command line, where `ps` and shell history would show it.
/// Input is read to end of file (or to the end of the first line when standard input is a
/// terminal, with echo turned off), bounded by `PasswordPolicy.passwordBytesMaximum`; one trailing
/// newline is removed, and an empty, multi-line or non-UTF-8 password is refused.
enum PasswordInput {
    struct Failure: Error {
        var message: String
    }

    static func read(descriptor: Int32, console: Console) throws(Failure) -> String {
        let limit = PasswordPolicy.passwordBytesMaximum
        let isTerminal = isatty(descriptor) == 1
        var bytes: [UInt8]
        if isTerminal {
            console.writeError("Password: ")
            bytes = try withEchoOff(descriptor) { () throws(Failure) in try readBytes(descriptor, limit: limit, stopAtNewline: true) }
            console.writeError("\n")
        } else {
            bytes = try readBytes(descriptor, limit: limit, stopAtNewline: false)
        }
        if bytes.last == UInt8(ascii: "\n") {
            bytes.removeLast()
            if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        }
        if bytes.count > limit { throw Failure(message: "the password is longer than \(limit) bytes") }
        if bytes.isEmpty { throw Failure(message: "the password on standard input is empty") }
        if bytes.contains(UInt8(ascii: "\n")) {
            throw Failure(message: "the password on standard input has more than one line")
        }
        guard let password = String(validating: bytes, as: UTF8.self) else {
            throw Failure(message: "the password on standard input is not valid UTF-8")
        }
        return password
    }

    /// Reads at most `limit + 2` bytes (room for a CRLF) so an oversize input is detected without
    /// reading an unbounded stream.
    private static func readBytes(_ descriptor: Int32, limit: Int, stopAtNewline: Bool) throws(Failure) -> [UInt8] {
        let capacity = limit + 3
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: stopAtNewline ? 1 : 4096)
        while bytes.count < capacity {
            let wanted = min(chunk.count, capacity - bytes.count)
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, wanted) }
            if count < 0 {
                if errno == EINTR { continue }
                throw Failure(message: "reading standard input failed: \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            if stopAtNewline && bytes.last == UInt8(ascii: "\n") { break }
        }
        return bytes
    }

    private static func withEchoOff<Result>(
        _ descriptor: Int32, _ body: () throws(Failure) -> Result
    ) throws(Failure) -> Result {
        var original = termios()
        if tcgetattr(descriptor, &original) != 0 { return try body() }
        var silent = original
        silent.c_lflag &= ~tcflag_t(ECHO)
        _ = tcsetattr(descriptor, TCSAFLUSH, &silent)
        defer { _ = tcsetattr(descriptor, TCSAFLUSH, &original) }
        return try body()
    }
}
