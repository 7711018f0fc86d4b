import Glibc
import Synchronization

/// Ports for the servers a test starts (momd, in-process nodes, ZooKeeper) on 127.0.0.1.
///
/// Why not "bind port 0, read the port, close, hand it on": such a port comes from the kernel's
/// ephemeral range, and between the close and the server's bind any outgoing connection of a
/// test running alongside may take it as its source port (CI saw `EADDRINUSE` that way). A
/// restarted node has the same window for the whole time it is down. So ports come from the band
/// *below* the ephemeral range, which the kernel never hands out on its own, one after another
/// from a random start, so one test process never returns a port twice. Each is still checked
/// with a bind (no SO_REUSEADDR) and skipped when something holds it, a TIME_WAIT included.
public enum TestPorts {
    public struct Exhausted: Error, CustomStringConvertible {
        public let description: String
    }

    /// `count` distinct ports nothing held when they were checked.
    public static func take(_ count: Int) throws -> [UInt16] {
        precondition(count > 0 && count <= 64, "a test takes 1-64 ports")
        return try cursor.withLock { next in
            let (ports, last) = pick(count, after: next, in: band, isFree: isFree)
            next = last
            guard ports.count == count else {
                throw Exhausted(description: "only \(ports.count) of \(count) free ports in \(band.lowerBound)-\(band.upperBound)")
            }
            return ports
        }
    }

    /// The pure core: walks `band` in order from the port after `cursor` (wrapping), keeps the
    /// free ones, and stops after `count` or one sweep. Returns them and the last port looked at.
    static func pick(_ count: Int, after cursor: UInt16, in band: ClosedRange<UInt16>, isFree: (UInt16) -> Bool) -> ([UInt16], UInt16) {
        var ports: [UInt16] = []
        var last = cursor
        var checked = 0
        while ports.count < count && checked < band.count {
            last = band.lowerBound + UInt16((Int(last) - Int(band.lowerBound) + 1) % band.count)
            checked += 1
            if isFree(last) { ports.append(last) }
        }
        return (ports, last)
    }

    /// 10000 up to the start of the ephemeral range (32768 by default; read from /proc).
    static let band: ClosedRange<UInt16> = {
        let lower: UInt16 = 10_000
        let ephemeralStart = ephemeralRangeStart() ?? 32_768
        return lower...max(lower + 1_000, ephemeralStart - 1)
    }()

    private static let cursor = Mutex(band.lowerBound + UInt16.random(in: 0..<UInt16(band.count)))

    private static func ephemeralRangeStart() -> UInt16? {
        guard let file = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r") else { return nil }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 64)
        guard fgets(&line, Int32(line.count), file) != nil else { return nil }
        let fields = line.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" })
        guard let first = fields.first, let low = UInt16(first), low > 11_000 else { return nil }
        return low
    }

    private static func isFree(_ port: UInt16) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return bound == 0
    }
}
