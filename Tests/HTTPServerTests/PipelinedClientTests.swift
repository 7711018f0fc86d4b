import Glibc
import MOMCore
import Synchronization
import SystemIO
import Testing
@testable import HTTPServer

/// `HTTPClient.write` / `receive`: pipelined requests on one connection, and `onHead`, which
/// runs before an answer's body has arrived.
@Suite struct PipelinedClientTests {
    @Test func answersComeBackInOrderFromTheRealServer() throws {
        try withServer { server, address in
            let client = try HTTPClient(address: address)
            // Slow first, fast last: the server still answers in request order.
            try client.write(HTTPRequest(method: .get, target: "/later?ms=80&n=0"))
            try client.write(HTTPRequest(method: .post, target: "/echo", body: Array("one".utf8)))
            try client.write(HTTPRequest(method: .get, target: "/big?bytes=300000"))
            #expect(client.unansweredCount == 3)
            var heads: [Int] = []
            let first = try client.receive { status, _ in heads.append(status.code) }
            #expect(String(decoding: first.body, as: UTF8.self) == "later ms=80&n=0")
            #expect(try client.receive().body == Array("one".utf8))
            let big = try client.receive { status, headers in
                heads.append(status.code)
                #expect(headers["content-length"] == "300000")
            }
            #expect(big.body.count == 300_000)
            #expect(heads == [200, 200])
            #expect(client.unansweredCount == 0)
            // The connection is reused, by pipelined and plain requests alike.
            #expect(try client.send(.get, "/hello").body == Array("hello".utf8))
            #expect(server.statistics.connectionsOpen == 1)
        }
    }

    @Test func receiveWithoutAWrittenRequestAndTooDeepAPipelineAreErrors() throws {
        try withServer { _, address in
            let client = try HTTPClient(address: address)
            #expect(throws: HTTPClientError.self) { try client.receive() }
            for index in 0..<HTTPClient.pipelineDepthMax {
                try client.write(HTTPRequest(method: .post, target: "/echo", body: Array("\(index)".utf8)))
            }
            #expect(throws: HTTPClientError.self) { try client.write(HTTPRequest(method: .get, target: "/hello")) }
            for index in 0..<HTTPClient.pipelineDepthMax {
                #expect(try client.receive().body == Array("\(index)".utf8))
            }
        }
    }

    /// A scripted server sends the head and half the body of its first answer, then waits for
    /// the second request before it finishes: only a client that writes from `onHead`, before
    /// the body is complete, gets both answers (otherwise the peer gives up and closes).
    @Test func onHeadRunsBeforeTheBodyHasArrived() throws {
        let listener = try FileDescriptor.listenTCP(on: .loopback(port: 0))
        defer { try? listener.close() }
        let address = try listener.localAddress()
        let peerFailure = Mutex<String?>(nil)
        let peer = OSThread.start(name: "test-peer") {
            do {
                let connection = try ScriptedPeer(accepting: listener)
                try connection.readRequest(containing: "GET /first ")
                try connection.send("HTTP/1.1 200 OK\r\nContent-Length: 10\r\nX-Next: /second\r\n\r\n01234")
                try connection.readRequest(containing: "GET /second ")
                try connection.send("56789HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            } catch {
                peerFailure.withLock { $0 = "\(error)" }
            }
        }
        defer { peer.join() }
        let client = try HTTPClient(address: address, timeoutMilliseconds: 5_000)
        try client.write(HTTPRequest(method: .get, target: "/first"))
        let first = try client.receive { status, headers throws(HTTPClientError) in
            #expect(status == .ok)
            try client.write(HTTPRequest(method: .get, target: headers["X-Next"] ?? "/missing"))
        }
        #expect(first.body == Array("0123456789".utf8))
        #expect(try client.receive().body == Array("ok".utf8))
        #expect(client.unansweredCount == 0)
        peer.join()
        #expect(peerFailure.withLock { $0 } == nil)
    }
}

/// The server side of `onHeadRunsBeforeTheBodyHasArrived`: one accepted connection, every wait
/// bounded (2 s), closed when it goes away.
private final class ScriptedPeer {
    let descriptor: FileDescriptor
    let epoll: Epoll
    var received: [UInt8] = []

    init(accepting listener: FileDescriptor) throws {
        let epoll = try Epoll()
        try epoll.add(listener, events: [.readable], token: 1)
        for _ in 0..<100 {
            if let (descriptor, _) = try listener.acceptConnection() {
                self.descriptor = descriptor
                self.epoll = try Epoll()
                try self.epoll.add(descriptor, events: [.readable], token: 1)
                return
            }
            try epoll.wait(timeoutMilliseconds: 20) { _ in }
        }
        throw Errno.timedOut
    }

    deinit { try? descriptor.close() }

    /// Reads until a whole request head containing `text` has arrived.
    func readRequest(containing text: String) throws {
        var buffer = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<100 {
            if let start = Self.index(of: Array(text.utf8), in: received, from: 0),
               Self.index(of: Array("\r\n\r\n".utf8), in: received, from: start) != nil { return }
            if let count = try buffer.withUnsafeMutableBytes({ try descriptor.receive(into: $0) }) {
                guard count > 0 else { throw Errno.connectionReset }
                received += buffer[..<count]
            } else {
                try epoll.wait(timeoutMilliseconds: 20) { _ in }
            }
        }
        throw Errno.timedOut
    }

    static func index(of needle: [UInt8], in bytes: [UInt8], from start: Int) -> Int? {
        guard bytes.count >= needle.count, start <= bytes.count - needle.count else { return nil }
        return (start...(bytes.count - needle.count)).first { Array(bytes[$0..<($0 + needle.count)]) == needle }
    }

    func send(_ text: String) throws {
        let bytes = Array(text.utf8)
        var offset = 0
        for _ in 0..<100 where offset < bytes.count {
            let start = offset
            offset += try bytes.withUnsafeBytes { try descriptor.send(from: UnsafeRawBufferPointer(rebasing: $0[start...])) } ?? 0
        }
        guard offset == bytes.count else { throw Errno.timedOut }
    }
}
