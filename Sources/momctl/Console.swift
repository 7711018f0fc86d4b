import Foundation

/// How a command ends: the exit codes of DESIGN §5.
enum ExitStatus: Int32 {
    /// It did what was asked.
    case success = 0
    /// It failed: a server error, a missing user, a database problem.
    case failure = 1
    /// It was called wrongly; the message says how to call it.
    case usage = 2
}

/// Where commands write and what they read. Injected so the commands can be driven in tests.
struct Console: Sendable {
    /// Writes data for the caller (tables, JSON): standard output.
    var writeOutput: @Sendable (String) -> Void
    /// Writes diagnostics: standard error.
    var writeError: @Sendable (String) -> Void
    /// Standard input's file descriptor, for reading a password.
    var inputDescriptor: Int32

    /// The process's real standard streams.
    static let standard = Console(
        writeOutput: { FileHandle.standardOutput.write(Data($0.utf8)) },
        writeError: { FileHandle.standardError.write(Data($0.utf8)) },
        inputDescriptor: STDIN_FILENO)

    /// Prints one line on standard output.
    func output(_ line: String) { writeOutput(line + "\n") }

    /// Prints "momctl: <message>" on standard error.
    func error(_ message: String) { writeError("momctl: " + message + "\n") }
}
