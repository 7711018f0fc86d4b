import Glibc
import SystemIO

/// `mom-bench chaos-proxy`: the network nemesis of a fault campaign (docs/chaos.md). It sits in
/// front of each node's Raft port (`--route NODE=LISTEN:TARGET`; nodes advertise the LISTEN port
/// with `momd --raft-advertise`), learns which node dialed from the transport handshake (the
/// first frame names its sender), and forwards bytes both ways. The control file lists blocked
/// links, one "A B" pair per line (symmetric); it is re-read every 100 ms. A blocked link's
/// connections are cut and new ones closed right after the handshake, which is how a
/// partition looks to the transport: connections reset, redials refused, until healed.
///
/// One thread, poll(2), non-blocking sockets; bounded in connections, buffered bytes and time.
final class ChaosProxy {
    struct Link: Hashable {
        let low: Int
        let high: Int
        init(_ a: Int, _ b: Int) { (low, high) = (min(a, b), max(a, b)) }
    }

    final class Pair {
        let inbound: FileDescriptor
        let targetNode: Int
        var outbound: FileDescriptor?
        var link: Link?
        var toTarget: [UInt8] = []
        var toDialer: [UInt8] = []
        var closed = false
        init(inbound: FileDescriptor, targetNode: Int) {
            self.inbound = inbound
            self.targetNode = targetNode
        }
    }

    static let pairsMax = 256
    static let bufferedBytesMax = 8 << 20
    static let handshakeBytesMax = 4_096

    let routes: [(node: Int, listen: UInt16, target: UInt16)]
    let controlPath: String
    var listeners: [(node: Int, descriptor: FileDescriptor, target: UInt16)] = []
    var pairs: [Pair] = []
    var blocked: Set<Link> = []
    var scratch = [UInt8](repeating: 0, count: 64 << 10)

    init(routes: [(node: Int, listen: UInt16, target: UInt16)], controlPath: String) {
        self.routes = routes
        self.controlPath = controlPath
    }

    static func main(_ arguments: [String]) -> Int32 {
        let options: ChaosOptions
        do {
            options = try ChaosOptions.parse(arguments)
            guard !options.routes.isEmpty, options.controlPath != nil else { throw ChaosOptions.UsageError(description: "needs --route and --control") }
        } catch {
            writeError("mom-bench chaos-proxy: \(error)\n\(ChaosOptions.usage)\n")
            return 2
        }
        let proxy = ChaosProxy(routes: options.routes, controlPath: options.controlPath!)
        do {
            for route in options.routes {
                let listener = try FileDescriptor.listenTCP(on: .loopback(port: route.listen))
                proxy.listeners.append((route.node, listener, route.target))
            }
        } catch {
            writeError("mom-bench chaos-proxy: cannot listen: \(error)\n")
            return 1
        }
        say("chaos-proxy: \(options.routes.count) routes up")
        proxy.run(seconds: options.durationSeconds)
        return 0
    }

    /// The loop: re-read the control file, poll, accept, pump, reap; until the time bound.
    func run(seconds: Double) {
        let clock = SystemClock()
        let deadline = clock.monotonicNanoseconds() + UInt64(seconds * 1e9)
        var nextControlRead: UInt64 = 0
        while clock.monotonicNanoseconds() < deadline {
            let now = clock.monotonicNanoseconds()
            if now >= nextControlRead {
                readControl()
                nextControlRead = now + 100_000_000
            }
            pollOnce(timeoutMilliseconds: 50)
            pairs.removeAll { pair in
                if pair.closed { close(pair) }
                return pair.closed
            }
        }
    }

    func readControl() {
        var links: Set<Link> = []
        let descriptor = open(controlPath, O_RDONLY | O_CLOEXEC)
        if descriptor >= 0 {
            var bytes = [UInt8](repeating: 0, count: 4_096)
            let count = read(descriptor, &bytes, bytes.count)
            Glibc.close(descriptor)
            let text = String(decoding: bytes.prefix(max(0, count)), as: UTF8.self)
            for line in text.split(separator: "\n") {
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "-" || $0 == "\t" }).compactMap { Int($0) }
                if fields.count == 2 { links.insert(Link(fields[0], fields[1])) }
            }
        }
        if links != blocked {
            say("chaos-proxy: blocked links now \(links.map { "\($0.low)-\($0.high)" }.sorted())")
            blocked = links
        }
        for pair in pairs where pair.link.map(blocked.contains) == true { pair.closed = true }
    }

    private func close(_ pair: Pair) {
        try? pair.inbound.close()
        try? pair.outbound?.close()
    }
}
