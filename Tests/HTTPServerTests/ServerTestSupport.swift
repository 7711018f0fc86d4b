import Glibc
import MOMCore
import SystemIO
import Testing
@testable import HTTPServer

/// A raw TCP connection for tests that need to misbehave (pipelining, slowloris, half-sent
/// bodies). Every wait is bounded by `timeoutMilliseconds`.
final class RawConnection {
    let descriptor: FileDescriptor
    let epoll: Epoll
    var received: [UInt8] = []
    var closedByPeer = false

    init(to address: SocketAddress) throws {
        descriptor = try FileDescriptor.connectTCP(to: address)
        epoll = try Epoll()
        try epoll.add(descriptor, events: [.readable, .writable], token: 1)
    }

    deinit { try? descriptor.close() }

    func send(_ text: String) throws { try send(bytes: Array(text.utf8)) }

    func send(bytes: [UInt8], timeoutMilliseconds: Int32 = 5_000) throws {
        var offset = 0
        var waits = 0
        while offset < bytes.count {
            let start = offset
            if let sent = try bytes.withUnsafeBytes({ try descriptor.send(from: UnsafeRawBufferPointer(rebasing: $0[start...])) }) {
                offset += sent
            } else {
                waits += 1
                guard waits < timeoutMilliseconds / 10 else { throw Errno.timedOut }
                try epoll.wait(timeoutMilliseconds: 10) { _ in }
            }
        }
    }

    /// Reads until `done(received)` holds, the peer closes, or the timeout passes.
    @discardableResult
    func read(until done: ([UInt8]) -> Bool, timeoutMilliseconds: UInt64 = 5_000) throws -> String {
        let clock = SystemClock()
        let deadline = clock.monotonicNanoseconds() + timeoutMilliseconds * 1_000_000
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !done(received) && !closedByPeer && clock.monotonicNanoseconds() < deadline {
            let count: Int?
            do {
                count = try buffer.withUnsafeMutableBytes { try descriptor.receive(into: $0) }
            } catch let error as Errno where error == .connectionReset {
                closedByPeer = true
                break
            }
            if let count {
                if count == 0 { closedByPeer = true } else { received += buffer[..<count] }
            } else {
                try epoll.wait(timeoutMilliseconds: 20) { _ in }
            }
        }
        return text
    }

    /// Reads until `count` complete responses (by Content-Length) have arrived.
    func readResponses(_ count: Int, timeoutMilliseconds: UInt64 = 5_000) throws -> [String] {
        try read(until: { Self.splitResponses($0).count >= count }, timeoutMilliseconds: timeoutMilliseconds)
        return Self.splitResponses(received)
    }

    /// Reads until the server closes the connection.
    func readUntilClosed(timeoutMilliseconds: UInt64 = 5_000) throws -> String {
        try read(until: { _ in false }, timeoutMilliseconds: timeoutMilliseconds)
    }

    var text: String { String(decoding: received, as: UTF8.self) }

    /// Splits a byte stream into whole responses using their Content-Length.
    static func splitResponses(_ bytes: [UInt8]) -> [String] {
        var responses: [String] = []
        var rest = bytes[...]
        while true {
            let parser = HTTPResponseParser(headerBytesMax: 1 << 16, bodyBytesMax: 1 << 26)
            let outcome = Array(rest).withUnsafeBufferPointer { parser.parse($0, endOfStream: false, isHead: false) }
            guard case .response(_, let consumed, _) = outcome else { return responses }
            responses.append(String(decoding: rest.prefix(consumed), as: UTF8.self))
            rest = rest.dropFirst(consumed)
        }
    }
}

/// Test limits: small and fast, so limit and timeout paths run in milliseconds.
func testLimits(
    headerBytesMax: Int = 4096, bodyBytesMax: Int = 1 << 20, connectionsMax: Int = 64, requestsInFlightMax: Int = 64,
    idleTimeoutMilliseconds: UInt64 = 5_000, headerReadTimeoutMilliseconds: UInt64 = 5_000
) -> Limits {
    var limits = Limits()
    limits.requestHeaderBytesMax = headerBytesMax
    limits.requestBodyBytesMax = bodyBytesMax
    limits.connectionsMax = connectionsMax
    limits.requestsInFlightMax = requestsInFlightMax
    limits.idleTimeoutMilliseconds = idleTimeoutMilliseconds
    limits.headerReadTimeoutMilliseconds = headerReadTimeoutMilliseconds
    return limits
}

/// The routes the loopback tests use.
func testRouter() -> Router {
    var router = Router()
    router.add(.get, "/hello") { _ in .text(.ok, "hello") }
    router.add(.post, "/echo") { request in HTTPResponse(status: .ok, body: request.body) }
    router.add(.get, "/big") { request in
        HTTPResponse(status: .ok, body: [UInt8](repeating: 0x61, count: Int(try request.queryInteger("bytes") ?? 0)))
    }
    router.addDeferred(.get, "/later") { request, responder in
        let delayMilliseconds = (try? request.queryInteger("ms")) ?? 50
        let body = request.rawQuery ?? ""
        _ = OSThread.start(name: "test-later") {
            usleep(UInt32(delayMilliseconds * 1000))
            responder.send(.text(.ok, "later \(body)"))
        }
    }
    return router
}

/// Runs `body` against a started server and always shuts it down.
func withServer<R>(
    limits: Limits = testLimits(), eventLoopCount: Int = 1, router: Router = testRouter(),
    writeBufferBytesMax: Int = 4 << 20,
    _ body: (HTTPServer, SocketAddress) throws -> R
) throws -> R {
    let server = HTTPServer(
        configuration: HTTPServerConfiguration(limits: limits, eventLoopCount: eventLoopCount, writeBufferBytesMax: writeBufferBytesMax),
        router: router)
    let address = try server.start()
    defer { server.shutdown(graceMilliseconds: 1_000) }
    return try body(server, address)
}

func statusCode(_ response: String) -> Int? {
    guard response.hasPrefix("HTTP/1.1 "), response.utf8.count >= 12 else { return nil }
    return Int(response.dropFirst(9).prefix(3))
}
