import CEpoll
import Glibc

/// An IPv4 socket address (`127.0.0.1:8080`). MOM listens and connects on IPv4 only;
/// tests and benchmarks stay on 127.0.0.0/8.
public struct SocketAddress: Hashable, Sendable, CustomStringConvertible {
    /// The address in host byte order.
    public let ipv4: UInt32
    public let port: UInt16

    public init(ipv4: UInt32, port: UInt16) {
        self.ipv4 = ipv4
        self.port = port
    }

    /// The loopback address with `port` (0 asks the kernel for a free one).
    public static func loopback(port: UInt16) -> SocketAddress {
        SocketAddress(ipv4: 0x7F00_0001, port: port)
    }

    /// Parses `HOST:PORT` where HOST is a dotted quad or `localhost`.
    public init?(parsing text: String) {
        guard let colon = text.lastIndex(of: ":") else { return nil }
        let host = text[..<colon]
        guard let port = UInt16(text[text.index(after: colon)...]) else { return nil }
        if host == "localhost" {
            self.init(ipv4: 0x7F00_0001, port: port)
            return
        }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard let octet = UInt8(part) else { return nil }
            value = value << 8 | UInt32(octet)
        }
        self.init(ipv4: value, port: port)
    }

    public var description: String {
        "\(ipv4 >> 24).\(ipv4 >> 16 & 0xFF).\(ipv4 >> 8 & 0xFF).\(ipv4 & 0xFF):\(port)"
    }

    /// Whether the address is in 127.0.0.0/8.
    public var isLoopback: Bool { ipv4 >> 24 == 127 }

    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) throws(Errno) -> R) throws(Errno) -> R {
        var storage = sockaddr_in()
        storage.sin_family = sa_family_t(AF_INET)
        storage.sin_port = port.bigEndian
        storage.sin_addr = in_addr(s_addr: ipv4.bigEndian)
        return try withUnsafePointer(to: &storage) { pointer throws(Errno) -> R in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address throws(Errno) -> R in
                try body(address, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
    }

    init(_ storage: sockaddr_in) {
        self.init(ipv4: UInt32(bigEndian: storage.sin_addr.s_addr), port: UInt16(bigEndian: storage.sin_port))
    }
}
