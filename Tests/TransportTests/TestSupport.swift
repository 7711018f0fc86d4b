import Glibc
import MOMCore
import SystemIO
@testable import Transport

/// The seed for a seeded test: `MOM_SEED` when set (to replay a failure), else a fresh one.
/// Tests put the seed in every failure message.
func testSeed() -> UInt64 {
    if let raw = getenv("MOM_SEED"), let seed = UInt64(String(cString: raw)) { return seed }
    var random = SystemRandom()
    return random.next()
}

/// Polls `condition` every few milliseconds until it holds or `seconds` pass. No timing is
/// asserted: the deadline only turns a hang into a failure.
func eventually(seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    let clock = SystemClock()
    let deadline = clock.monotonicNanoseconds() + UInt64(seconds * 1e9)
    while clock.monotonicNanoseconds() < deadline {
        if condition() { return true }
        usleep(2_000)
    }
    return condition()
}

/// Collects what a transport delivers, from its thread, for the test thread to inspect.
final class Inbox: @unchecked Sendable {
    private let lock = ConditionMutex()
    private var received: [(from: NodeID, envelope: Envelope)] = []
    private(set) var batches = 0

    func deliver(from node: NodeID, _ envelopes: [Envelope]) {
        lock.withLock {
            batches += 1
            for envelope in envelopes { received.append((node, envelope)) }
        }
    }

    var all: [(from: NodeID, envelope: Envelope)] { lock.withLock { received } }
    var count: Int { lock.withLock { received.count } }
    func envelopes(from node: NodeID) -> [Envelope] {
        lock.withLock { received.filter { $0.from == node }.map(\.envelope) }
    }
}

/// Collects log lines, to check that a rejection says why.
final class LogLines: @unchecked Sendable {
    private let lock = ConditionMutex()
    private var lines: [String] = []
    func append(_ line: String) { lock.withLock { lines.append(line) } }
    func contains(_ text: String) -> Bool { lock.withLock { lines.contains { $0.contains(text) } } }
}

/// A running transport with its inbox, on an ephemeral (or given) loopback port.
struct Node {
    let transport: TCPTransport
    let inbox: Inbox
    let log: LogLines
    var id: NodeID { transport.localNode }
    var address: SocketAddress { transport.listenAddress! }

    static func start(
        _ id: UInt64, cluster: String = "test-cluster", port: UInt16 = 0, seed: UInt64 = 1,
        adjust: (inout TCPTransportConfiguration) -> Void = { _ in }
    ) throws -> Node {
        var configuration = TCPTransportConfiguration(
            localNode: NodeID(id), clusterID: cluster, listenAddress: .loopback(port: port))
        // Fast, bounded retries keep the reconnect tests short.
        configuration.backoff = ReconnectBackoff(initialDelayNanoseconds: 5_000_000, maximumDelayNanoseconds: 100_000_000)
        configuration.random = SeededRandom(seed: seed &+ id)
        let log = LogLines()
        configuration.log = { log.append($0) }
        adjust(&configuration)
        let transport = TCPTransport(configuration: configuration)
        let inbox = Inbox()
        try transport.start { from, envelopes in inbox.deliver(from: from, envelopes) }
        return Node(transport: transport, inbox: inbox, log: log)
    }

    func peer(_ other: NodeID) -> PeerStatistics? { transport.statistics().peers[other] }
}

/// An envelope whose payload names its sender and sequence number, for order checks.
func sequenced(from sender: NodeID, sequence: UInt32, group: GroupID, padding: Int = 0) -> Envelope {
    var payload: [UInt8] = [UInt8(truncatingIfNeeded: sender.rawValue)]
    withUnsafeBytes(of: sequence.littleEndian) { payload.append(contentsOf: $0) }
    payload.append(contentsOf: repeatElement(0xAB, count: padding))
    return Envelope(group: group, payload: payload)
}

func sequenceNumber(of envelope: Envelope) -> UInt32? {
    guard envelope.payload.count >= 5 else { return nil }
    return envelope.payload[1...4].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
}
