// mom-bench: throughput and latency benchmark for MOM (DESIGN.md §5).
// Minimal dispatcher on the `sim` branch; the storage branch owns the full one. At merge, keep
// theirs and add, before their option parsing: `case "raft", "simulate": exit(RaftWorkload.main(arguments))`.
import Glibc

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "raft", "simulate": exit(RaftWorkload.main(arguments))
default:
    print("usage: mom-bench raft|simulate [options]\n\(RaftWorkload.usageText)")
    exit(2)
}
