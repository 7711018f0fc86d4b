import Glibc
import MOMCore
import Synchronization
import SystemIO
import Testing
@testable import HTTPServer

@Suite struct ClientTests {
    @Test func requestsReuseOneConnection() throws {
        try withServer { server, address in
            let client = try HTTPClient(address: address)
            for index in 0..<20 {
                let response = try client.send(.post, "/echo", body: Array("body \(index)".utf8))
                #expect(response.status == .ok)
                #expect(response.body == Array("body \(index)".utf8))
            }
            #expect(client.isConnected)
            #expect(server.statistics.connectionsOpen == 1)
            #expect(server.statistics.requestsTotal == 20)
        }
    }

    @Test func headErrorsAndConnectionClose() throws {
        try withServer { _, address in
            let client = try HTTPClient(address: address)
            let head = try client.send(.head, "/hello")
            #expect(head.status == .ok)
            #expect(head.headers["date"]?.hasSuffix(" GMT") == true)
            #expect(head.headers["content-length"] == "5")
            #expect(head.body.isEmpty)

            let missing = try client.send(.get, "/nowhere")
            #expect(missing.status == .notFound)
            let error = try JSONValue(parsing: missing.body)
            #expect(error["error"]?["code"]?.stringValue == "not_found")

            var close = HTTPHeaders()
            close.add(name: "Connection", value: "close")
            #expect(try client.send(.get, "/hello", headers: close).status == .ok)
            #expect(!client.isConnected)
            #expect(try client.send(.get, "/hello").status == .ok)  // reconnects
            #expect(client.isConnected)
        }
    }

    @Test func replacesAConnectionTheServerClosedWhileIdle() throws {
        try withServer(limits: testLimits(idleTimeoutMilliseconds: 50, headerReadTimeoutMilliseconds: 50)) { _, address in
            let client = try HTTPClient(address: address)
            #expect(try client.send(.get, "/hello").status == .ok)
            usleep(300_000)
            #expect(try client.send(.post, "/echo", body: [1]).body == [1])
        }
    }

    @Test func timesOutAndBoundsResponses() throws {
        try withServer { _, address in
            let slow = try HTTPClient(address: address, timeoutMilliseconds: 100)
            #expect(throws: HTTPClientError.timedOut) { try slow.send(.get, "/later?ms=1000") }
            let small = try HTTPClient(address: address, responseBytesMax: 100)
            #expect(throws: HTTPClientError.self) { try small.send(.get, "/big?bytes=1000") }
            #expect(try small.send(.get, "/big?bytes=100").body.count == 100)
        }
    }

    @Test func connectToClosedPortFails() throws {
        let listener = try FileDescriptor.listenTCP(on: .loopback(port: 0))
        let address = try listener.localAddress()
        try listener.close()
        let client = try HTTPClient(address: address, timeoutMilliseconds: 1_000)
        #expect(throws: HTTPClientError.connectFailed(.connectionRefused)) { try client.send(.get, "/") }
    }

    @Test func poolCompletesRequestsOffTheCallerThread() async throws {
        let server = HTTPServer(configuration: HTTPServerConfiguration(limits: testLimits()), router: testRouter())
        let address = try server.start()
        defer { server.shutdown(graceMilliseconds: 500) }
        let pool = HTTPClientPool(threadCount: 2, queueDepthMax: 64, timeoutMilliseconds: 5_000)
        defer { pool.shutdown() }

        let response = try await pool.send(HTTPRequest(method: .get, target: "/later?ms=10&p=1"), to: address)
        #expect(String(decoding: response.body, as: UTF8.self) == "later ms=10&p=1")

        let results = Mutex<[Int: Int]>([:])
        let done = ConditionMutex()
        for index in 0..<30 {
            let queued = pool.send(HTTPRequest(method: .post, target: "/echo", body: [UInt8(index)]), to: address) { result in
                let byte = (try? result.get().body.first).flatMap { $0 }.map(Int.init) ?? -1
                results.withLock { $0[index] = byte }
                done.signal()
            }
            #expect(queued)
        }
        let deadline = SystemClock().monotonicNanoseconds() + 5_000_000_000
        done.withLock {
            while results.withLock({ $0.count }) < 30 && SystemClock().monotonicNanoseconds() < deadline {
                done.wait(untilMonotonicNanoseconds: SystemClock().monotonicNanoseconds() + 10_000_000)
            }
        }
        #expect(results.withLock { $0 } == Dictionary(uniqueKeysWithValues: (0..<30).map { ($0, $0) }))
    }

    @Test func severalEventLoopsServeConcurrentClients() throws {
        try withServer(eventLoopCount: 2) { server, address in
            let failures = Atomic<Int>(0)
            let threads = (0..<6).map { index in
                OSThread.start(name: "test-client") {
                    do {
                        let client = try HTTPClient(address: address)
                        for request in 0..<25 {
                            let body = Array("\(index)-\(request)".utf8)
                            if try client.send(.post, "/echo", body: body).body != body { failures.add(1, ordering: .relaxed) }
                        }
                    } catch {
                        failures.add(1, ordering: .relaxed)
                    }
                }
            }
            for thread in threads { thread.join() }
            #expect(failures.load(ordering: .relaxed) == 0)
            #expect(server.statistics.requestsTotal == 150)
        }
    }
}
