// momctl: the operator's command-line tool. See Dispatcher.swift for the command groups.
import Foundation

let exitStatus = await Dispatcher.standard.run(
    Array(CommandLine.arguments.dropFirst()), console: Console.standard,
    environment: ProcessInfo.processInfo.environment)
exit(exitStatus.rawValue)
