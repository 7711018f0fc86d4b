import CZooKeeper
import MOMCore

/// How a `ZooKeeperCoordinator` reaches its ensemble and where under it MOM's facts live.
public struct ZooKeeperConfiguration: Sendable {
    /// Comma-separated `host:port` list of the ensemble, as `momd --zookeeper` takes it.
    public var connectString: String
    /// The znode under which `nodes/` and `groups/` live (`momd --zk-root`); one cluster per root.
    public var root: String
    /// How long the ensemble keeps this node's session (and so its registration) without
    /// hearing from it. ZooKeeper clamps it to [2, 20] × its tickTime.
    public var sessionTimeoutMilliseconds: Int32
    /// How long to wait before retrying a failed handle creation or a registration that another
    /// (probably dead) session still holds.
    public var retryDelayMilliseconds: UInt64
    /// The C client's log level, to stderr. WARN keeps connection trouble visible and drops chatter.
    public var logLevel: ZooKeeperLogLevel
    /// Bounds on record sizes, children listed and open watches.
    public var limits: Limits

    /// A configuration with MOM's defaults: root `/mom`, a 10 s session, WARN logging.
    public init(
        connectString: String,
        root: String = "/mom",
        sessionTimeoutMilliseconds: Int32 = 10_000,
        retryDelayMilliseconds: UInt64 = 1_000,
        logLevel: ZooKeeperLogLevel = .warn,
        limits: Limits = .standard
    ) {
        self.connectString = connectString
        self.root = root
        self.sessionTimeoutMilliseconds = sessionTimeoutMilliseconds
        self.retryDelayMilliseconds = retryDelayMilliseconds
        self.logLevel = logLevel
        self.limits = limits
    }
}

/// The libzookeeper C client's log verbosity. Process-wide: the library has one log setting.
public enum ZooKeeperLogLevel: Int32, Sendable {
    /// Nothing is logged.
    case off = 0
    /// Errors only (a refused connection is one).
    case error = 1
    /// Errors and warnings: the default.
    case warn = 2
    /// Every connect and session event.
    case info = 3
    /// Everything, including each request.
    case debug = 4

    /// Applies this level to the C client, logging to stderr.
    public func apply() {
        mom_zoo_set_log(rawValue)
    }
}
