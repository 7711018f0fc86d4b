import HTTPServer
import SystemIO

/// Flags of the chaos subcommands (`chaos-load`, `chaos-final`, `chaos-proxy`, `check`); see
/// docs/chaos.md. Strict like `BenchOptions`: an unknown flag is a usage error.
struct ChaosOptions {
    var servers: [SocketAddress] = []
    var topic = "chaos"
    var partitions = 3
    var replicationFactor = 3
    var producers = 4
    var consumers = 3
    var durationSeconds = 60.0
    var drainSeconds = 90.0
    /// How long chaos-load waits for the heal marker after producing stops.
    var healWaitSeconds = 600.0
    var historyPath: String?
    var healedFile: String?
    /// chaos-load creates this file once the topic (and queue) serve.
    var readyFile: String?
    var requestTimeoutMilliseconds: UInt64 = 5_000
    var seed: UInt64 = 1
    var token: String?
    /// Producer requests per producer thread, an upper bound besides the duration.
    var operationsPerProducerMax = 200_000
    /// chaos-proxy: node → (listen port, target port); the control file of blocked links.
    var routes: [(node: Int, listen: UInt16, target: UInt16)] = []
    var controlPath: String?
    /// chaos-load: also run the queue workload on this queue (docs/chaos.md: pending routes).
    var queue: String?
    var queueMaxDeliveries = 5
    /// check: the history files.
    var files: [String] = []

    static let usage = """
        usage: mom-bench chaos-load  --servers H:P,... --history FILE [--topic T] [--partitions N]
                                     [--replication-factor N] [--producers N] [--consumers N]
                                     [--duration SEC] [--ready-file FILE] [--healed-file FILE] [--drain SEC] [--seed N] [--token JWT]
                                     [--queue NAME [--queue-max-deliveries N]] [--heal-wait SEC]
                                     [--timeout-ms MS] [--operations-max N]
               mom-bench chaos-final --servers H:P,... --history FILE [--topic T] [--token JWT]
               mom-bench chaos-proxy --route NODE=LISTEN_PORT:TARGET_PORT ... --control FILE [--duration SEC]
               mom-bench check FILE...
        """

    struct UsageError: Error, CustomStringConvertible {
        let description: String
    }

    static func parse(_ arguments: [String]) throws(UsageError) -> ChaosOptions {
        var options = ChaosOptions()
        var index = 0
        func value(_ flag: String) throws(UsageError) -> String {
            index += 1
            guard index < arguments.count else { throw UsageError(description: "\(flag) needs a value") }
            return arguments[index]
        }
        func number(_ flag: String) throws(UsageError) -> Double {
            let text = try value(flag)
            guard let number = Double(text), number > 0, number.isFinite else { throw UsageError(description: "\(flag) needs a positive number, got '\(text)'") }
            return number
        }
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "--servers":
                for text in try value(argument).split(separator: ",") {
                    guard let address = SocketAddress(parsing: String(text)), address.isLoopback else {
                        throw UsageError(description: "--servers entry '\(text)' is not a 127.0.0.0/8 host:port")
                    }
                    options.servers.append(address)
                }
            case "--topic": options.topic = try value(argument)
            case "--partitions": options.partitions = Int(try number(argument))
            case "--replication-factor": options.replicationFactor = Int(try number(argument))
            case "--producers": options.producers = Int(try number(argument))
            case "--consumers": options.consumers = Int(try number(argument))
            case "--duration": options.durationSeconds = try number(argument)
            case "--drain": options.drainSeconds = try number(argument)
            case "--heal-wait": options.healWaitSeconds = try number(argument)
            case "--history": options.historyPath = try value(argument)
            case "--healed-file": options.healedFile = try value(argument)
            case "--ready-file": options.readyFile = try value(argument)
            case "--timeout-ms": options.requestTimeoutMilliseconds = UInt64(try number(argument))
            case "--seed": options.seed = UInt64(try number(argument))
            case "--token": options.token = try value(argument)
            case "--operations-max": options.operationsPerProducerMax = Int(try number(argument))
            case "--control": options.controlPath = try value(argument)
            case "--queue": options.queue = try value(argument)
            case "--queue-max-deliveries": options.queueMaxDeliveries = Int(try number(argument))
            case "--route":
                let text = try value(argument)
                let parts = text.split(whereSeparator: { $0 == "=" || $0 == ":" }).compactMap { UInt16($0) }
                guard parts.count == 3 else { throw UsageError(description: "--route wants NODE=LISTEN_PORT:TARGET_PORT, got '\(text)'") }
                options.routes.append((Int(parts[0]), parts[1], parts[2]))
            default:
                guard !argument.hasPrefix("-") else { throw UsageError(description: "unknown argument '\(argument)'") }
                options.files.append(argument)
            }
            index += 1
        }
        return options
    }

    /// Request headers: JSON, and the bearer token when given (nodes run with
    /// `--insecure-no-auth` otherwise).
    var headers: HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        if let token { headers.add(name: "Authorization", value: "Bearer \(token)") }
        return headers
    }
}
