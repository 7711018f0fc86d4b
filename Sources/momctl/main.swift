// momctl: the operator's command-line tool. See Dispatcher.swift for the command groups.
import Foundation

let status = Dispatcher.standard.run(Array(CommandLine.arguments.dropFirst()), console: Console.standard)
exit(status.rawValue)
