// momd: the MOM node daemon (DESIGN.md §5). Everything is assembled in the Broker module.
import Broker
import Glibc

// Block the stop signals before any other thread exists, so only the signal thread sees them.
NodeServer.blockStopSignals()
let code = await NodeServer.run(arguments: Array(CommandLine.arguments.dropFirst()), makeLink: NodeServer.defaultLink)
exit(code)
