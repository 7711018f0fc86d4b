import Foundation
import MOMCore
import SegmentLog
import SystemIO

/// momd's configuration: the command-line contract of DESIGN.md §5. `config/momd.json` holds the
/// same keys as the flags (without the leading dashes); a flag overrides the file.
public struct NodeConfig: Equatable, Sendable {
    public var nodeID: NodeID
    public var dataDirectory: String
    public var httpListen: SocketAddress
    public var raftListen: SocketAddress
    /// The Raft address peers dial, when it is not `raftListen` (a proxy or NAT in between, as
    /// Kafka's advertised listeners; the chaos campaign puts a fault-injecting proxy there).
    public var raftAdvertise: SocketAddress?
    /// ZooKeeper connection string; nil runs standalone on the embedded coordinator.
    public var zookeeper: String?
    public var zookeeperRoot: String = "/mom"
    public var usersDatabase: String?
    /// Names the cluster in the transport handshake: nodes of another cluster are refused.
    public var clusterID: String = "mom"
    /// The voters of the `__meta` group when the cluster is first formed.
    public var metaReplicas: [NodeID] = []
    /// Serves without tokens. Off by default and logged loudly when on.
    public var insecureNoAuth: Bool = false
    /// A file holding the JWT secret, when `MOM_SECRET_KEY` is not set.
    public var secretFile: String?
    public var tickMilliseconds: UInt64 = 100
    /// A leader heartbeats every this many ticks; followers campaign after 10-20 ticks of
    /// silence. Every 2 ticks (200 ms) keeps five heartbeats in the shortest election timeout and
    /// halves an idle node's heartbeat work with many partitions (docs/performance.md §11).
    public var heartbeatTicks: Int = 2
    /// `on` (the default): a group with nothing in flight stops heartbeating, and the node
    /// sends each peer one keep-alive per heartbeat interval instead, so an idle node's work no
    /// longer grows with its partitions (docs/performance.md §23). `off`: every group
    /// heartbeats all the time.
    public var quiesce: Quiesce = .on

    public enum Quiesce: String, Sendable {
        case on, off
    }
    /// How a loop pass makes its dirty logs durable (docs/operations.md).
    public var groupCommit: GroupCommit = .syncfs

    /// `syncfs`: one syncfs(2) of the data directory's file system covers every log written in
    /// the pass (best on a file system of its own). `fdatasync`: one fdatasync per log, side by
    /// side on a few threads (for a data directory that shares a busy file system).
    public enum GroupCommit: String, Sendable {
        case syncfs, fdatasync
    }

    /// With `--group-commit syncfs`: `async` syncs on a thread of its own while the replication
    /// loop goes on writing and replicating (acks still wait for the sync); `sync` makes each
    /// loop pass wait for its sync; `adaptive` (the default) is `async` except for a pass that
    /// finds no sync in flight and wrote a few entries of one log, which syncs them itself
    /// (docs/operations.md, docs/performance.md §24).
    public var storageWrites: StorageWrites = .adaptive

    public enum StorageWrites: String, Sendable {
        case async, sync, adaptive
    }

    /// `inline` (the default): every fetch answer is encoded on the replication loop that read
    /// it; `offload`: answers of 64 KiB or more on a thread of their own (slower on 2 vCPUs,
    /// docs/performance.md §21).
    public var fetchEncoding: FetchEncoding = .inline

    public enum FetchEncoding: String, Sendable {
        case offload, inline
    }

    /// `shared` (the default): the node-to-node transport runs on the replication loop's
    /// thread, so a peer's message wakes the thread that steps it; `own`: on a thread of its
    /// own, as before (docs/operations.md, docs/performance.md §18).
    public var transportThread: TransportThread = .shared

    public enum TransportThread: String, Sendable {
        case shared, own
    }

    /// `shared` (the default): the HTTP server runs on the replication loop's thread, with the
    /// transport, so a produce is proposed and answered by the thread that replicates it (with
    /// `--transport-thread shared` and peers; otherwise, and with `own`, on a thread of its
    /// own). docs/performance.md §20.
    public var httpThread: HTTPThread = .shared

    public enum HTTPThread: String, Sendable {
        case shared, own
    }

    /// How much of each partition log's durable tail stays in the page cache
    /// (`--page-cache-tail-mb N`; `all`, the default, leaves every page to the kernel). Older
    /// pages are freed as the log grows, so new writes reuse them (docs/performance.md §19).
    public var pageCacheTailBytes: UInt64? = SegmentLog.defaultCachedTailBytes

    /// Why a configuration was refused: the message names the flag and the fix.
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
    }

    /// Parses flags (and the `--config` file they name). Flags override the file.
    public static func parse(arguments: [String], readFile: (String) throws -> [UInt8] = NodeConfig.readFile) throws -> NodeConfig {
        let flags = try parseFlags(arguments)
        var values: [String: String] = [:]
        if let path = flags["config"] {
            let bytes: [UInt8]
            do { bytes = try readFile(path) } catch { throw Invalid(message: "cannot read --config \(path): \(error)") }
            values = try parseFile(bytes, path: path)
        }
        for (key, value) in flags where key != "config" { values[key] = value }
        return try build(values)
    }

    /// The value of a flag that names one of `T`'s cases; nil when the flag is absent.
    static func choice<T: RawRepresentable>(_ values: [String: String], _ key: String, as type: T.Type, names: String) throws -> T? where T.RawValue == String {
        guard let name = values[key] else { return nil }
        guard let value = T(rawValue: name) else { throw Invalid(message: "--\(key) takes \(names), not '\(name)'") }
        return value
    }

    static let knownKeys: Set<String> = [
        "config", "node-id", "data-dir", "http-listen", "raft-listen", "zookeeper", "zk-root", "users-db",
        "cluster-id", "meta-replicas", "insecure-no-auth", "secret-file", "tick-ms", "heartbeat-ticks", "raft-advertise", "group-commit", "storage-writes",
        "transport-thread", "http-thread", "page-cache-tail-mb",
        "fetch-encoding", "quiesce",
    ]
    static let booleanKeys: Set<String> = ["insecure-no-auth"]

    static func parseFlags(_ arguments: [String]) throws -> [String: String] {
        var values: [String: String] = [:]
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            guard argument.hasPrefix("--") else { throw Invalid(message: "unexpected argument '\(argument)'; flags start with --") }
            var key = String(argument.dropFirst(2))
            var value: String?
            if let equals = key.firstIndex(of: "=") {
                value = String(key[key.index(after: equals)...])
                key = String(key[..<equals])
            }
            guard knownKeys.contains(key) else { throw Invalid(message: "unknown flag --\(key); see momd --help") }
            if booleanKeys.contains(key) {
                values[key] = value ?? "true"
            } else if let value {
                values[key] = value
            } else {
                index += 1
                guard index < arguments.count else { throw Invalid(message: "--\(key) needs a value") }
                values[key] = arguments[index]
            }
            index += 1
        }
        return values
    }

    static func parseFile(_ bytes: [UInt8], path: String) throws -> [String: String] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw Invalid(message: "--config \(path) is not a JSON object")
        }
        var values: [String: String] = [:]
        for (rawKey, value) in object {
            let key = rawKey.replacingOccurrences(of: "_", with: "-")
            guard knownKeys.contains(key), key != "config" else { throw Invalid(message: "unknown key '\(rawKey)' in \(path)") }
            switch value {
            case let text as String: values[key] = text
            case let number as NSNumber where booleanKeys.contains(key): values[key] = number.boolValue ? "true" : "false"
            case let number as NSNumber: values[key] = number.stringValue
            case let list as [Any]: values[key] = list.map { "\($0)" }.joined(separator: ",")
            default: throw Invalid(message: "key '\(rawKey)' in \(path) has an unsupported value")
            }
        }
        return values
    }

    static func build(_ values: [String: String]) throws -> NodeConfig {
        func required(_ key: String) throws -> String {
            guard let value = values[key], !value.isEmpty else { throw Invalid(message: "--\(key) is required") }
            return value
        }
        func address(_ key: String) throws -> SocketAddress {
            let text = try required(key)
            guard let parsed = SocketAddress(parsing: text) else {
                throw Invalid(message: "--\(key) '\(text)' is not HOST:PORT with an IPv4 host, e.g. 127.0.0.1:8080")
            }
            return parsed
        }
        guard let id = UInt64(try required("node-id")), id > 0 else { throw Invalid(message: "--node-id must be a positive integer") }
        var config = NodeConfig(
            nodeID: NodeID(id), dataDirectory: try required("data-dir"),
            httpListen: try address("http-listen"), raftListen: try address("raft-listen"))
        if values["raft-advertise"] != nil { config.raftAdvertise = try address("raft-advertise") }
        config.zookeeper = values["zookeeper"].flatMap { $0.isEmpty ? nil : $0 }
        if let root = values["zk-root"] {
            guard root.hasPrefix("/"), root.count > 1, !root.hasSuffix("/") else {
                throw Invalid(message: "--zk-root must be an absolute znode path such as /mom")
            }
            config.zookeeperRoot = root
        }
        config.usersDatabase = values["users-db"]
        if let cluster = values["cluster-id"] { config.clusterID = cluster }
        if let replicas = values["meta-replicas"] {
            config.metaReplicas = try replicas.split(separator: ",").map {
                guard let n = UInt64($0.trimmingCharacters(in: .whitespaces)), n > 0 else {
                    throw Invalid(message: "--meta-replicas takes node ids separated by commas, e.g. 1,2,3")
                }
                return NodeID(n)
            }
        }
        if config.metaReplicas.isEmpty { config.metaReplicas = [config.nodeID] }
        config.insecureNoAuth = values["insecure-no-auth"] == "true"
        config.secretFile = values["secret-file"]
        if let tick = values["tick-ms"] {
            guard let ms = UInt64(tick), (1...10_000).contains(ms) else { throw Invalid(message: "--tick-ms must be 1…10000") }
            config.tickMilliseconds = ms
        }
        if let ticks = values["heartbeat-ticks"] {
            guard let count = Int(ticks), (1...5).contains(count) else {
                throw Invalid(message: "--heartbeat-ticks must be 1…5 (an election timeout is at least 10 ticks)")
            }
            config.heartbeatTicks = count
        }
        if let groupCommit = try choice(values, "group-commit", as: GroupCommit.self, names: "syncfs or fdatasync") {
            config.groupCommit = groupCommit
            // The background sync is one syncfs: with per-log fdatasync each pass syncs itself.
            if groupCommit == .fdatasync { config.storageWrites = .sync }
        }
        if let storageWrites = try choice(values, "storage-writes", as: StorageWrites.self, names: "adaptive, async or sync") {
            guard storageWrites == .sync || config.groupCommit == .syncfs else {
                throw Invalid(message: "--storage-writes \(storageWrites.rawValue) needs --group-commit syncfs (its background sync is one syncfs)")
            }
            config.storageWrites = storageWrites
        }
        if let quiesce = try choice(values, "quiesce", as: Quiesce.self, names: "on or off") {
            config.quiesce = quiesce
        }
        if let encoding = try choice(values, "fetch-encoding", as: FetchEncoding.self, names: "offload or inline") {
            config.fetchEncoding = encoding
        }
        if let thread = try choice(values, "transport-thread", as: TransportThread.self, names: "shared or own") {
            config.transportThread = thread
        }
        if let thread = try choice(values, "http-thread", as: HTTPThread.self, names: "shared or own") {
            guard thread == .own || config.transportThread == .shared else {
                throw Invalid(message: "--http-thread shared needs --transport-thread shared (the HTTP server joins the thread the transport shares with the replication loop)")
            }
            config.httpThread = thread
        } else if config.transportThread == .own {
            // The default follows the transport: there is no shared loop to join.
            config.httpThread = .own
        }
        if let tail = values["page-cache-tail-mb"] {
            if tail == "all" {
                config.pageCacheTailBytes = nil
            } else {
                guard let megabytes = UInt64(tail), (1...65_536).contains(megabytes) else {
                    throw Invalid(message: "--page-cache-tail-mb takes 1…65536 (MiB) or all, not '\(tail)'")
                }
                config.pageCacheTailBytes = megabytes << 20
            }
        }
        return config
    }

    public static func readFile(_ path: String) throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path) else { throw Errno.noEntry }
        return [UInt8](data)
    }
}
