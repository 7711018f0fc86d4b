import CEpoll
import Glibc

/// TCP socket operations on a `FileDescriptor`. Every socket MOM opens is non-blocking and
/// close-on-exec; a would-block result is `nil`, not an error.
extension FileDescriptor {
    /// A listening TCP socket bound to `address` (port 0 picks a free port; read it back with
    /// `localAddress()`). `reusePort` lets several event loops accept on the same port.
    public static func listenTCP(
        on address: SocketAddress, backlog: Int32 = 1024, reusePort: Bool = false
    ) throws(Errno) -> FileDescriptor {
        let raw = try syscall { socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        let descriptor = FileDescriptor(rawValue: raw)
        do throws(Errno) {
            try descriptor.setOption(SOL_SOCKET, SO_REUSEADDR, 1)
            if reusePort { try descriptor.setOption(SOL_SOCKET, SO_REUSEPORT, 1) }
            _ = try address.withSockaddr { (pointer, length) throws(Errno) in try syscall { bind(raw, pointer, length) } }
            _ = try syscall { listen(raw, backlog) }
        } catch {
            try? descriptor.close()
            throw error
        }
        return descriptor
    }

    /// Starts a non-blocking connect. Returns the socket; completion is signalled by writability,
    /// after which `pendingSocketError()` says whether it succeeded.
    public static func connectTCP(to address: SocketAddress) throws(Errno) -> FileDescriptor {
        let raw = try syscall { socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        let descriptor = FileDescriptor(rawValue: raw)
        do throws(Errno) {
            try descriptor.setNoDelay()
            let result: Int32 = try address.withSockaddr { pointer, length in connect(raw, pointer, length) }
            if result < 0 {
                let failure = Errno.current
                if failure != .inProgress && failure != .interrupted { throw failure }
            }
        } catch {
            try? descriptor.close()
            throw error
        }
        return descriptor
    }

    /// Accepts one pending connection (non-blocking, close-on-exec), or nil when none is pending.
    public func acceptConnection() throws(Errno) -> (FileDescriptor, SocketAddress)? {
        var storage = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        while true {
            let raw = withUnsafeMutablePointer(to: &storage) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                    accept4(rawValue, address, &length, Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue))
                }
            }
            if raw >= 0 { return (FileDescriptor(rawValue: raw), SocketAddress(storage)) }
            let failure = Errno.current
            switch failure {
            case .interrupted, Errno(ECONNABORTED): continue
            case .wouldBlock: return nil
            default: throw failure
            }
        }
    }

    /// Reads into `buffer`. Returns the count (0 means end of stream), or nil when it would block.
    public func receive(into buffer: UnsafeMutableRawBufferPointer) throws(Errno) -> Int? {
        while true {
            let count = Glibc.read(rawValue, buffer.baseAddress, buffer.count)
            if count >= 0 { return count }
            let failure = Errno.current
            if failure == .interrupted { continue }
            if failure == .wouldBlock { return nil }
            throw failure
        }
    }

    /// Writes from `buffer` without SIGPIPE. Returns the count written, or nil when it would block.
    public func send(from buffer: UnsafeRawBufferPointer) throws(Errno) -> Int? {
        while true {
            let count = Glibc.send(rawValue, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL))
            if count >= 0 { return count }
            let failure = Errno.current
            if failure == .interrupted { continue }
            if failure == .wouldBlock { return nil }
            throw failure
        }
    }

    /// The socket's pending error (SO_ERROR), e.g. the outcome of a non-blocking connect.
    public func pendingSocketError() throws(Errno) -> Errno? {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        _ = try syscall { getsockopt(rawValue, SOL_SOCKET, SO_ERROR, &value, &length) }
        return value == 0 ? nil : Errno(value)
    }

    /// The address this socket is bound to.
    public func localAddress() throws(Errno) -> SocketAddress {
        var storage = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = try withUnsafeMutablePointer(to: &storage) { pointer throws(Errno) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address throws(Errno) in
                try syscall { getsockname(rawValue, address, &length) }
            }
        }
        return SocketAddress(storage)
    }

    /// Disables Nagle's algorithm: MOM batches itself and wants low latency.
    public func setNoDelay() throws(Errno) { try setOption(Int32(IPPROTO_TCP), TCP_NODELAY, 1) }

    /// Sets an integer socket option.
    public func setOption(_ level: Int32, _ name: Int32, _ value: Int32) throws(Errno) {
        var v = value
        _ = try syscall { setsockopt(rawValue, level, name, &v, socklen_t(MemoryLayout<Int32>.size)) }
    }

    /// Shuts down the write side (sends FIN) so the peer sees end of stream.
    public func shutdownWrite() { _ = shutdown(rawValue, Int32(SHUT_WR)) }

    /// Makes a descriptor non-blocking.
    public func setNonBlocking() throws(Errno) {
        let flags = try syscall { fcntl(rawValue, F_GETFL) }
        _ = try syscall { fcntl(rawValue, F_SETFL, flags | O_NONBLOCK) }
    }
}
