// mom-bench: throughput and latency benchmark for MOM (DESIGN.md §5).
// Each workload lives in its own file; add one by adding a case to a switch below.
import Glibc

let arguments = Array(CommandLine.arguments.dropFirst())

// The Raft workloads parse their own flags (--seeds, --schedule, …).
switch arguments.first {
case "raft", "simulate": exit(RaftWorkload.main(arguments))
// The fault-campaign tools (docs/chaos.md) parse their own flags too.
case "chaos-load": exit(ChaosLoad.main(Array(arguments.dropFirst())))
case "chaos-final": exit(ChaosFinal.main(Array(arguments.dropFirst())))
case "chaos-proxy": exit(ChaosProxy.main(Array(arguments.dropFirst())))
case "check": exit(ChaosCheck.main(Array(arguments.dropFirst())))
case "fuzz": exit(FuzzWorkload.main(arguments))
// The in-process decoder measurement (run it under callgrind) parses its own flags too.
case "decode": exit(DecodeWorkload.main(arguments))
default: break
}

let options: BenchOptions
do {
    options = try BenchOptions.parse(arguments)
} catch {
    writeError("mom-bench: \(error)\n\(BenchOptions.usage)\n")
    exit(2)
}

let report: BenchReport
do {
    switch options.workload {
    case "log": report = try LogWorkload(options: options).run()
    case "produce": report = try ProduceWorkload(options: options).run()
    case "consume": report = try ConsumeWorkload(options: options).run()
    case "e2e": report = try EndToEndWorkload(options: options).run()
    default:
        writeError("mom-bench: unknown workload '\(options.workload)'\n\(BenchOptions.usage)\n")
        exit(2)
    }
} catch {
    writeError("mom-bench \(options.workload): \(error)\n")
    exit(1)
}

report.printHuman()
if options.json { report.printJSON() }
