import Foundation
@testable import momctl

/// A console that records what a command prints, for in-process command tests.
final class CapturedConsole: @unchecked Sendable {
    private let lock = NSLock()
    private var standardOutput = ""
    private var standardError = ""

    var output: String { lock.withLock { standardOutput } }
    var error: String { lock.withLock { standardError } }

    /// Standard input is /dev/null: in-process tests never read it.
    var console: Console {
        Console(
            writeOutput: { text in self.lock.withLock { self.standardOutput += text } },
            writeError: { text in self.lock.withLock { self.standardError += text } },
            inputDescriptor: -1)
    }

    /// Runs momctl in process with an environment that points nowhere real.
    static func run(_ arguments: [String], environment: [String: String] = ["HOME": "/nonexistent-home"]) async -> (CommandExit, CapturedConsole) {
        let captured = CapturedConsole()
        let status = await Dispatcher.standard.run(arguments, console: captured.console, environment: environment)
        return (status, captured)
    }
}

/// momctl's exit status; Swift Testing has an `ExitStatus` of its own.
typealias CommandExit = momctl.ExitStatus
