/// Command-line options shared by every workload (DESIGN.md §5). Parsing is strict: an unknown
/// flag or a bad number is a usage error (exit 2), so a typo never silently benchmarks defaults.
struct BenchOptions {
    var workload = ""
    var messages = 100_000
    var size = 1024
    var batch = 256
    var concurrency = 1
    /// Upper bound on each measured phase, in seconds; every load loop is bounded in time.
    var durationSeconds = 120.0
    var servers: [String] = []
    var json = false
    var directory: String?
    var keep = false
    var reportDurable = false
    /// Network workloads: the topic, created with these settings when it does not exist.
    var topic = "bench"
    var partitions = 1
    var replicationFactor = 1
    /// Open-loop target rate in messages per second; nil runs closed-loop (send on each answer).
    var ratePerSecond: Double?
    /// Bearer token sent on every request; nil with `--insecure` (a node run with `--insecure-no-auth`).
    var token: String?
    var insecure = false
    /// consume / e2e: the long-poll wait of each fetch.
    var waitMilliseconds = 500
    /// produce / consume: bodies as JSON text or as `application/vnd.mom.batch`.
    var binary = false
    /// consume: send the next fetch as soon as an answer's head names its next offset
    /// (`MOM-Next-Offset`), so one fetch is always on its way while a page is read.
    var prefetch = true

    /// The usage text, printed on a usage error.
    static let usage = """
        usage: mom-bench <workload> [options]
          workloads: log, produce, consume, e2e
          (raft, simulate and the fault-campaign tools chaos-load, chaos-final, chaos-proxy and
          check parse their own flags; see docs/chaos.md)
          --messages N      records to write (default 100000)
          --size BYTES      record size (default 1024)
          --batch N         records per batch (default 256)
          --concurrency N   concurrent clients, where the workload has them (default 1)
          --duration SEC    time bound of each measured phase (default 120)
          --servers LIST    comma-separated host:port list, for network workloads
          --dir PATH        work directory (default: a fresh temporary directory)
          --keep            keep the work directory afterwards
          --report-durable  log: print "durable <offset>" on stdout after each fdatasync
          --json            the last stdout line is one JSON object with the results
        network workloads (produce, consume, e2e) over keep-alive HTTP/1.1:
          --servers LIST    host:port of MOM nodes (127.0.0.0/8 only); thread i uses server i mod count
          --topic NAME      topic (default bench); created if missing
          --partitions N    partitions when creating (default 1)
          --replication-factor N   replication factor when creating (default 1)
          --batch N         records per produce request / max_records per fetch
          --concurrency N   produce: connections (threads) in flight; messages in flight = concurrency x batch
          --rate MSGS       produce/e2e: open-loop target rate in msgs/s (latency from the intended send time)
          --wait-ms MS      consume/e2e: long-poll wait per fetch (default 500)
          --token JWT       send Authorization: Bearer JWT
          --insecure        send no token (momd started with --insecure-no-auth)
          --format F        produce/consume: json (default) or binary (application/vnd.mom.batch)
          --no-prefetch     consume: one fetch at a time (default: the next fetch is pipelined as
                            soon as an answer's head names its next offset)
        """

    /// Why the command line was rejected.
    struct UsageError: Error, CustomStringConvertible {
        let description: String
    }

    static func parse(_ arguments: [String]) throws(UsageError) -> BenchOptions {
        var options = BenchOptions()
        var index = 0
        func value(_ flag: String) throws(UsageError) -> String {
            index += 1
            guard index < arguments.count else { throw UsageError(description: "\(flag) needs a value") }
            return arguments[index]
        }
        func positive(_ flag: String) throws(UsageError) -> Int {
            let text = try value(flag)
            guard let number = Int(text), number > 0 else { throw UsageError(description: "\(flag) needs a positive integer, got '\(text)'") }
            return number
        }
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "--messages": options.messages = try positive(argument)
            case "--size": options.size = try positive(argument)
            case "--batch": options.batch = try positive(argument)
            case "--concurrency": options.concurrency = try positive(argument)
            case "--duration":
                let text = try value(argument)
                guard let seconds = Double(text), seconds > 0 else { throw UsageError(description: "--duration needs positive seconds") }
                options.durationSeconds = seconds
            case "--servers": options.servers = try value(argument).split(separator: ",").map(String.init)
            case "--dir": options.directory = try value(argument)
            case "--keep": options.keep = true
            case "--report-durable": options.reportDurable = true
            case "--json": options.json = true
            case "--topic": options.topic = try value(argument)
            case "--partitions": options.partitions = try positive(argument)
            case "--replication-factor": options.replicationFactor = try positive(argument)
            case "--rate":
                let text = try value(argument)
                guard let rate = Double(text), rate > 0, rate.isFinite else { throw UsageError(description: "--rate needs positive msgs/s") }
                options.ratePerSecond = rate
            case "--wait-ms": options.waitMilliseconds = try positive(argument)
            case "--token": options.token = try value(argument)
            case "--insecure": options.insecure = true
            case "--no-prefetch": options.prefetch = false
            case "--format":
                switch try value(argument) {
                case "json": options.binary = false
                case "binary": options.binary = true
                case let other: throw UsageError(description: "--format takes json or binary, got '\(other)'")
                }
            case "-h", "--help": throw UsageError(description: "help")
            default:
                if argument.hasPrefix("-") || !options.workload.isEmpty {
                    throw UsageError(description: "unknown argument '\(argument)'")
                }
                options.workload = argument
            }
            index += 1
        }
        if options.workload.isEmpty { throw UsageError(description: "missing workload") }
        if ["produce", "consume", "e2e"].contains(options.workload) {
            if options.servers.isEmpty { throw UsageError(description: "\(options.workload) needs --servers host:port[,...]") }
            if options.token == nil && !options.insecure { throw UsageError(description: "\(options.workload) needs --token JWT or --insecure") }
        }
        return options
    }
}
