import Foundation

/// A request as the fake server received it.
struct RecordedRequest: Sendable {
    var method: String
    var target: String
    var headers: [String: String]  // lowercased names
    var body: [UInt8]
    /// Which accepted connection carried it (0-based), to observe keep-alive.
    var connection: Int

    var path: String { String(target.split(separator: "?", maxSplits: 1).first ?? "") }
    var query: String? { target.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init) }

    /// The body as a JSON object (a test failure, not a crash, if it is not one).
    func json() throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(body))
        guard let dictionary = object as? [String: Any] else { throw FakeServerError.notAnObject }
        return dictionary
    }
}

enum FakeServerError: Error { case notAnObject, socket(String) }

/// A canned HTTP response.
struct CannedResponse: Sendable {
    var status: Int
    var body: String
    var headers: [(String, String)] = []

    static func json(_ status: Int, _ body: String, headers: [(String, String)] = []) -> CannedResponse {
        CannedResponse(status: status, body: body, headers: headers)
    }

    static func error(_ status: Int, code: String, message: String, headers: [(String, String)] = []) -> CannedResponse {
        .json(status, #"{"error":{"code":"\#(code)","message":"\#(message)"}}"#, headers: headers)
    }
}

/// A tiny loopback HTTP/1.1 server for client tests: binds 127.0.0.1 port 0, serves keep-alive
/// connections on its own threads (never the cooperative pool), answers from per-route scripts
/// and records every request. Every loop is bounded by `stop()` and by poll timeouts.
final class FakeServer: @unchecked Sendable {
    let port: UInt16
    private let listener: Int32
    private let lock = NSLock()
    private var scripts: [String: [CannedResponse]] = [:]
    private var recorded: [RecordedRequest] = []
    private var connectionCount = 0
    private var stopped = false
    private var listenerClosed = false
    private var openDescriptors: Set<Int32> = []

    init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw FakeServerError.socket("socket") }
        var reuse: Int32 = 1
        _ = setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(listener, 64) == 0 else { _ = close(listener); throw FakeServerError.socket("bind/listen") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        self.listener = listener
        port = UInt16(bigEndian: address.sin_port)
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    var address: String { "127.0.0.1:\(port)" }

    /// Answers `"METHOD /path"` with these responses in turn; the last one repeats.
    func script(_ route: String, _ responses: [CannedResponse]) {
        lock.withLock { scripts[route] = responses }
    }

    var requests: [RecordedRequest] { lock.withLock { recorded } }
    var connectionsAccepted: Int { lock.withLock { connectionCount } }

    func requests(_ route: String) -> [RecordedRequest] {
        requests.filter { "\($0.method) \($0.path)" == route }
    }

    /// Idempotent. Shuts descriptors down under the lock that their close also takes, so it never
    /// touches a number that was closed and reused: the test process shares descriptor numbers
    /// with every other test running in parallel, and a stray shutdown there breaks that test.
    func stop() {
        lock.withLock {
            guard !stopped else { return }
            stopped = true
            for descriptor in openDescriptors { _ = shutdown(descriptor, Int32(SHUT_RDWR)) }
            if !listenerClosed { _ = shutdown(listener, Int32(SHUT_RDWR)) }
        }
    }

    deinit { stop() }

    private var isStopped: Bool { lock.withLock { stopped } }

    private func acceptLoop() {
        while !isStopped {
            var entry = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 100) > 0 else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            let index: Int = lock.withLock {
                defer { connectionCount += 1 }
                openDescriptors.insert(client)
                return connectionCount
            }
            let thread = Thread { [self] in serve(client, index: index) }
            thread.start()
        }
        lock.withLock {
            listenerClosed = true
            _ = close(listener)
        }
    }

    private func serve(_ client: Int32, index: Int) {
        var buffer: [UInt8] = []
        defer {
            lock.withLock {
                _ = openDescriptors.remove(client)
                _ = close(client)
            }
        }
        while !isStopped {
            guard let request = readRequest(client, buffer: &buffer, connection: index) else { return }
            let response = respond(to: request)
            var text = "HTTP/1.1 \(response.status) X\r\nContent-Length: \(response.body.utf8.count)\r\n"
            for (name, value) in response.headers { text += "\(name): \(value)\r\n" }
            text += "Content-Type: application/json\r\n\r\n\(response.body)"
            let bytes = Array(text.utf8)
            var sent = 0
            while sent < bytes.count {
                let count = bytes[sent...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                guard count > 0 else { return }
                sent += count
            }
            if response.headers.contains(where: { $0.0.lowercased() == "connection" && $0.1 == "close" }) { return }
        }
    }

    private func respond(to request: RecordedRequest) -> CannedResponse {
        lock.withLock {
            recorded.append(request)
            let route = "\(request.method) \(request.path)"
            guard var queue = scripts[route], let first = queue.first else {
                if route == "POST /v1/auth/token" { return .json(200, #"{"token":"token-1","expires_in":3600}"#) }
                return .error(404, code: "not_found", message: "no script for \(route)")
            }
            if queue.count > 1 { queue.removeFirst(); scripts[route] = queue }
            return first
        }
    }

    /// Reads one request (head + Content-Length body); nil on EOF, stop or a 120 s idle wait.
    private func readRequest(_ client: Int32, buffer: inout [UInt8], connection: Int) -> RecordedRequest? {
        var waits = 0
        while true {
            if let request = parse(&buffer, connection: connection) { return request }
            var entry = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            let ready = poll(&entry, 1, 100)
            if ready == 0 { waits += 1; if waits > 1_200 || isStopped { return nil }; continue }
            var chunk = [UInt8](repeating: 0, count: 65_536)
            let count = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { return nil }
            buffer.append(contentsOf: chunk[..<count])
        }
    }

    private func parse(_ buffer: inout [UInt8], connection: Int) -> RecordedRequest? {
        let terminator: [UInt8] = [13, 10, 13, 10]
        guard buffer.count >= 4,
              let end = (0...(buffer.count - 4)).first(where: { Array(buffer[$0..<$0 + 4]) == terminator })
        else { return nil }
        let head = String(decoding: buffer[..<end], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let requestLine = lines.removeFirst().split(separator: " ")
        var headers: [String: String] = [:]
        for line in lines {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        guard buffer.count >= end + 4 + length else { return nil }
        let body = Array(buffer[(end + 4)..<(end + 4 + length)])
        buffer.removeSubrange(..<(end + 4 + length))
        return RecordedRequest(
            method: String(requestLine[0]), target: String(requestLine[1]),
            headers: headers, body: body, connection: connection)
    }
}

/// A port that refuses connections: bound but never listening, held until `close()`.
final class RefusingPort {
    let descriptor: Int32
    let port: UInt16

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { _ = close(descriptor); throw FakeServerError.socket("bind") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.descriptor = descriptor
        port = UInt16(bigEndian: address.sin_port)
    }

    var address: String { "127.0.0.1:\(port)" }

    deinit { _ = close(descriptor) }
}
