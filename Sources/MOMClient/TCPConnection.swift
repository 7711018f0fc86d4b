import Foundation  // On Linux this also brings the Glibc socket calls.
import MOMCore

/// One blocking HTTP/1.1 keep-alive connection over a POSIX TCP socket. Why blocking: each
/// request runs on a Dispatch worker (never the Swift cooperative pool), and poll() gives
/// every step a deadline, so a dead server costs at most the timeout.
/// Not thread-safe: the pool hands a connection to one request at a time.
final class TCPConnection: @unchecked Sendable {
    let address: ServerAddress
    private var descriptor: Int32
    /// Bytes read past the end of the previous response (a well-behaved server sends none).
    private var pending: [UInt8] = []
    /// Requests completed on this connection; > 0 means it came from the idle pool.
    private(set) var requestsServed = 0

    private init(address: ServerAddress, descriptor: Int32) {
        self.address = address
        self.descriptor = descriptor
    }

    deinit { close() }

    var isOpen: Bool { descriptor >= 0 }

    /// Connects with a deadline (non-blocking connect + poll for writability).
    static func connect(to address: ServerAddress, deadline: Deadline) throws(MOMClientError) -> TCPConnection {
        let socketAddress = try resolve(address)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw .transport("socket(): \(errnoText())") }
        let connection = TCPConnection(address: address, descriptor: descriptor)
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        let flags = fcntl(descriptor, F_GETFL)
        _ = fcntl(descriptor, F_SETFL, flags | O_NONBLOCK)
        var noDelay: Int32 = 1
        _ = setsockopt(descriptor, Int32(IPPROTO_TCP), TCP_NODELAY, &noDelay, socklen_t(MemoryLayout<Int32>.size))
        var target = socketAddress
        let result = withUnsafePointer(to: &target) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        if result != 0 {
            guard errno == EINPROGRESS || errno == EINTR else {
                throw .transport("connect to \(address): \(errnoText())")
            }
            try connection.wait(for: Int16(POLLOUT), deadline: deadline, doing: "connect to \(address)")
            var socketError: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &socketError, &length)
            if socketError != 0 {
                throw .transport("connect to \(address): \(String(cString: strerror(socketError)))")
            }
        }
        return connection
    }

    /// IPv4 resolution via getaddrinfo. Why IPv4 only: the broker listens on 127.0.0.0/8 and
    /// cluster addresses in DESIGN.md are IPv4 literals.
    private static func resolve(_ address: ServerAddress) throws(MOMClientError) -> sockaddr_in {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(address.host, String(address.port), &hints, &list)
        defer { if let list { freeaddrinfo(list) } }
        guard status == 0, let first = list, let raw = first.pointee.ai_addr else {
            throw .transport("cannot resolve '\(address.host)': \(String(cString: gai_strerror(status)))")
        }
        return raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee }
    }

    /// A pooled connection is unusable if the server closed it (readable EOF) or sent
    /// unsolicited bytes; both show up as "readable" while idle.
    var looksIdleAndHealthy: Bool {
        guard isOpen, pending.isEmpty else { return false }
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&entry, 1, 0) == 0
    }

    /// Sends a request and reads its response, all before `deadline`.
    func exchange(
        _ request: HTTPRequestMessage, deadline: Deadline, responseBytesMax: Int
    ) throws(MOMClientError) -> HTTPResponseMessage {
        try send(request.serialized(host: address), deadline: deadline)
        let response = try receive(method: request.method, deadline: deadline, bytesMax: responseBytesMax)
        requestsServed += 1
        if !response.keepAlive { close() }
        return response
    }

    func close() {
        if descriptor >= 0 {
            _ = Glibc.close(descriptor)
            descriptor = -1
        }
    }

    private func send(_ bytes: [UInt8], deadline: Deadline) throws(MOMClientError) {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { buffer in
                Glibc.send(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL))
            }
            if count > 0 { sent += count; continue }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                try wait(for: Int16(POLLOUT), deadline: deadline, doing: "send to \(address)")
                continue
            }
            let detail = errnoText()
            close()
            throw .transport("send to \(address): \(detail)")
        }
    }

    private func receive(method: String, deadline: Deadline, bytesMax: Int) throws(MOMClientError) -> HTTPResponseMessage {
        let headBytesMax = 64 << 10
        var buffer = pending
        pending = []
        var headEnd: Int? = Self.headTerminator(in: buffer)
        while headEnd == nil {
            guard buffer.count < headBytesMax else { close(); throw .decoding("response head exceeds \(headBytesMax) bytes") }
            guard try readMore(into: &buffer, deadline: deadline) else {
                close()
                throw .transport("\(address) closed the connection before answering")
            }
            headEnd = Self.headTerminator(in: buffer)
        }
        let end = headEnd!
        let head: HTTPResponseHead
        do { head = try HTTPResponseHead.parse(buffer[..<end], requestMethod: method) } catch { close(); throw error }
        var body = Array(buffer[(end + 4)...])
        switch head.framing {
        case .none:
            pending = body
            body = []
        case .contentLength(let length):
            guard length <= bytesMax else { close(); throw .decoding("response body of \(length) bytes exceeds \(bytesMax)") }
            while body.count < length {
                guard try readMore(into: &body, deadline: deadline) else {
                    close()
                    throw .transport("\(address) closed the connection mid-body (\(body.count) of \(length) bytes)")
                }
            }
            pending = Array(body[length...])
            body.removeSubrange(length...)
        case .untilClose:
            while try readMore(into: &body, deadline: deadline) {
                guard body.count <= bytesMax else { close(); throw .decoding("response body exceeds \(bytesMax) bytes") }
            }
        }
        return HTTPResponseMessage(status: head.status, headers: head.headers, body: body, keepAlive: head.keepAlive)
    }

    /// Reads what is available (waiting until the deadline); false on orderly EOF.
    private func readMore(into buffer: inout [UInt8], deadline: Deadline) throws(MOMClientError) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 { buffer.append(contentsOf: chunk[..<count]); return true }
            if count == 0 { return false }
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                try wait(for: Int16(POLLIN), deadline: deadline, doing: "receive from \(address)")
                continue
            }
            let detail = errnoText()
            close()
            throw .transport("receive from \(address): \(detail)")
        }
    }

    private func wait(for events: Int16, deadline: Deadline, doing action: String) throws(MOMClientError) {
        while true {
            let remaining = deadline.remainingMilliseconds()
            guard remaining > 0 else { close(); throw .timeout("\(action) did not complete in time") }
            var entry = pollfd(fd: descriptor, events: events, revents: 0)
            let ready = poll(&entry, 1, Int32(clamping: remaining))
            if ready > 0 { return }  // readiness, or an error/hangup the next call reports
            if ready < 0 && errno != EINTR {
                let detail = errnoText()
                close()
                throw .transport("\(action): poll: \(detail)")
            }
        }
    }

    private static func headTerminator(in buffer: [UInt8]) -> Int? {
        guard buffer.count >= 4 else { return nil }
        for index in 0...(buffer.count - 4)
        where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
            return index
        }
        return nil
    }
}

func errnoText() -> String { String(cString: strerror(errno)) }

/// A point in monotonic time after which an operation gives up.
struct Deadline: Sendable {
    let clock: any Clock
    let nanoseconds: UInt64

    init(clock: any Clock, fromNowMilliseconds milliseconds: UInt64) {
        self.clock = clock
        let (sum, overflow) = clock.monotonicNanoseconds().addingReportingOverflow(milliseconds.multipliedReportingOverflow(by: 1_000_000).partialValue)
        self.nanoseconds = overflow ? .max : sum
    }

    func remainingMilliseconds() -> Int64 {
        let now = clock.monotonicNanoseconds()
        guard nanoseconds > now else { return 0 }
        return Int64(clamping: (nanoseconds - now + 999_999) / 1_000_000)
    }
}
