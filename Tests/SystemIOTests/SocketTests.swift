import Glibc
import Testing
@testable import SystemIO

@Suite struct SocketTests {
    @Test func parsesAndPrintsAddresses() {
        #expect(SocketAddress(parsing: "127.0.0.1:8080") == .loopback(port: 8080))
        #expect(SocketAddress(parsing: "localhost:1")?.isLoopback == true)
        #expect(SocketAddress(parsing: "10.1.2.3:99")?.description == "10.1.2.3:99")
        #expect(SocketAddress(parsing: "1.2.3:80") == nil)
        #expect(SocketAddress(parsing: "1.2.3.4:99999") == nil)
        #expect(SocketAddress(parsing: "nohost") == nil)
    }

    @Test func loopbackRoundTripThroughEpoll() throws {
        let listener = try FileDescriptor.listenTCP(on: .loopback(port: 0))
        defer { try? listener.close() }
        let address = try listener.localAddress()
        #expect(address.port != 0)

        let epoll = try Epoll()
        try epoll.add(listener, events: .readable, token: 1)
        let client = try FileDescriptor.connectTCP(to: address)
        defer { try? client.close() }

        var accepted: FileDescriptor?
        for _ in 0..<100 where accepted == nil {
            try epoll.wait(timeoutMilliseconds: 50) { _ in }
            accepted = try listener.acceptConnection()?.0
        }
        let server = try #require(accepted, "connection accepted within 5 s")
        defer { try? server.close() }
        #expect(try client.pendingSocketError() == nil)

        let message: [UInt8] = Array("ping".utf8)
        var sent: Int?
        for _ in 0..<100 where sent == nil {
            sent = try message.withUnsafeBytes { try client.send(from: $0) }
        }
        #expect(sent == 4)

        try epoll.add(server, events: .readable, token: 2)
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16)
        for _ in 0..<100 where received.count < 4 {
            try epoll.wait(timeoutMilliseconds: 50) { _ in }
            if let n = try buffer.withUnsafeMutableBytes({ try server.receive(into: $0) }) {
                received += buffer[..<n]
            }
        }
        #expect(received == message)

        client.shutdownWrite()
        var endOfStream = false
        for _ in 0..<100 where !endOfStream {
            try epoll.wait(timeoutMilliseconds: 50) { _ in }
            endOfStream = try buffer.withUnsafeMutableBytes({ try server.receive(into: $0) }) == 0
        }
        #expect(endOfStream)
    }

    @Test func eventNotifierWakesEpoll() throws {
        let epoll = try Epoll()
        let notifier = try EventNotifier()
        defer { notifier.close() }
        try epoll.add(notifier.descriptor, events: .readable, token: 7)
        var tokens: [UInt64] = []
        try epoll.wait(timeoutMilliseconds: 0) { tokens.append($0.token) }
        #expect(tokens.isEmpty)
        notifier.signal()
        notifier.signal()
        try epoll.wait(timeoutMilliseconds: 1000) { tokens.append($0.token) }
        #expect(tokens == [7])
        notifier.drain()
        tokens.removeAll()
        try epoll.wait(timeoutMilliseconds: 0) { tokens.append($0.token) }
        #expect(tokens.isEmpty)
    }

    @Test func connectToClosedPortReportsRefused() throws {
        let listener = try FileDescriptor.listenTCP(on: .loopback(port: 0))
        let address = try listener.localAddress()
        try listener.close()
        let client = try FileDescriptor.connectTCP(to: address)
        defer { try? client.close() }
        let epoll = try Epoll()
        try epoll.add(client, events: [.writable], token: 1)
        var ready = false
        for _ in 0..<100 where !ready { try epoll.wait(timeoutMilliseconds: 50) { _ in ready = true } }
        #expect(try client.pendingSocketError() == .connectionRefused)
    }
}
