import Glibc
import MOMCore
import Synchronization
import SystemIO
import Testing
@testable import HTTPServer

@Suite struct ServerTests {
    @Test func keepAliveServesSeveralRequestsOnOneConnection() throws {
        try withServer { _, address in
            let connection = try RawConnection(to: address)
            for index in 0..<3 {
                try connection.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\n\r\nr\(index)")
                let responses = try connection.readResponses(index + 1)
                #expect(responses.count == index + 1)
                #expect(responses.last?.hasSuffix("\r\n\r\nr\(index)") == true)
            }
            #expect(!connection.closedByPeer)
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        try withServer { _, address in
            let connection = try RawConnection(to: address)
            // The first response comes late from another thread; the fast ones must wait for it.
            try connection.send(
                "GET /later?ms=100&id=1 HTTP/1.1\r\n\r\nGET /hello HTTP/1.1\r\n\r\nPOST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyzGET /later?ms=1&id=4 HTTP/1.1\r\n\r\n")
            let responses = try connection.readResponses(4)
            #expect(responses.count == 4)
            #expect(responses[0].hasSuffix("later ms=100&id=1"))
            #expect(responses[1].hasSuffix("hello"))
            #expect(responses[2].hasSuffix("xyz"))
            #expect(responses[3].hasSuffix("later ms=1&id=4"))
        }
    }

    @Test func oversizedBodyGets413AndClose() throws {
        try withServer(limits: testLimits(bodyBytesMax: 1_000)) { _, address in
            let connection = try RawConnection(to: address)
            try connection.send("POST /echo HTTP/1.1\r\nContent-Length: 5000\r\n\r\n" + String(repeating: "b", count: 2_000))
            let text = try connection.readUntilClosed()
            #expect(statusCode(text) == 413)
            #expect(text.contains("Connection: close"))
            #expect(text.contains("\"code\":\"content_too_large\""))
            #expect(connection.closedByPeer)
        }
    }

    @Test func oversizedHeadersGet431AndClose() throws {
        try withServer(limits: testLimits(headerBytesMax: 512)) { _, address in
            let connection = try RawConnection(to: address)
            try connection.send("GET /hello HTTP/1.1\r\nX-Big: \(String(repeating: "h", count: 1_000))\r\n\r\n")
            let text = try connection.readUntilClosed()
            #expect(statusCode(text) == 431)
            #expect(connection.closedByPeer)
        }
    }

    @Test func malformedRequestGets400AndClose() throws {
        try withServer { _, address in
            let connection = try RawConnection(to: address)
            try connection.send("GET /hello HTTP/1.1\r\nBad Header\r\n\r\n")
            #expect(statusCode(try connection.readUntilClosed()) == 400)
            #expect(connection.closedByPeer)
        }
    }

    @Test func chunkedRequestGets411() throws {
        try withServer { _, address in
            let connection = try RawConnection(to: address)
            try connection.send("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
            #expect(statusCode(try connection.readUntilClosed()) == 411)
        }
    }

    @Test func slowHeadersGet408() throws {
        let limits = testLimits(idleTimeoutMilliseconds: 5_000, headerReadTimeoutMilliseconds: 150)
        try withServer(limits: limits) { _, address in
            let connection = try RawConnection(to: address)
            try connection.send("GET /hello HTTP/1.1\r\nX-Slow: ")
            // Keep trickling bytes: activity must not extend the header deadline.
            for _ in 0..<4 {
                usleep(50_000)
                try? connection.send("a")
            }
            let text = try connection.readUntilClosed()
            #expect(statusCode(text) == 408)
            #expect(connection.closedByPeer)
        }
    }

    @Test func idleConnectionIsClosedSilently() throws {
        let limits = testLimits(idleTimeoutMilliseconds: 100, headerReadTimeoutMilliseconds: 100)
        try withServer(limits: limits) { _, address in
            let connection = try RawConnection(to: address)
            try connection.send("GET /hello HTTP/1.1\r\n\r\n")
            let text = try connection.readUntilClosed()
            #expect(RawConnection.splitResponses(connection.received).count == 1)
            #expect(statusCode(text) == 200)
            #expect(connection.closedByPeer)
        }
    }

    @Test func connectionLimitAnswers503() throws {
        try withServer(limits: testLimits(connectionsMax: 2)) { server, address in
            var held: [RawConnection] = []
            for _ in 0..<2 {
                let connection = try RawConnection(to: address)
                try connection.send("GET /hello HTTP/1.1\r\n\r\n")
                #expect(try connection.readResponses(1).count == 1)
                held.append(connection)
            }
            let extra = try RawConnection(to: address)
            let text = try extra.readUntilClosed()
            #expect(statusCode(text) == 503)
            #expect(text.contains("Retry-After: 1"))
            #expect(server.statistics.connectionsRejected == 1)
            // Freeing a slot lets a new connection in.
            held.removeFirst()
            var served = false
            for _ in 0..<50 where !served {
                let retry = try RawConnection(to: address)
                try retry.send("GET /hello HTTP/1.1\r\n\r\n")
                served = statusCode(try retry.readResponses(1).first ?? "") == 200
                if !served { usleep(20_000) }
            }
            #expect(served)
        }
    }

    @Test func inFlightLimitAnswers503() throws {
        let release = Mutex<HTTPResponder?>(nil)
        var router = Router()
        router.addDeferred(.get, "/hold") { _, responder in release.withLock { $0 = responder } }
        router.add(.get, "/hello") { _ in .text(.ok, "hello") }
        try withServer(limits: testLimits(requestsInFlightMax: 1), router: router) { server, address in
            let holder = try RawConnection(to: address)
            try holder.send("GET /hold HTTP/1.1\r\n\r\n")
            for _ in 0..<250 where release.withLock({ $0 == nil }) { usleep(20_000) }
            let other = try RawConnection(to: address)
            try other.send("GET /hello HTTP/1.1\r\n\r\n")
            let rejected = try other.readResponses(1)
            #expect(statusCode(rejected.first ?? "") == 503)
            #expect(server.statistics.requestsRejected == 1)
            _ = release.withLock { $0?.send(.text(.ok, "released")) }
            #expect(try holder.readResponses(1).first?.hasSuffix("released") == true)
            try other.send("GET /hello HTTP/1.1\r\n\r\n")
            #expect(statusCode(try other.readResponses(2).last ?? "") == 200)
        }
    }

    @Test func handlerRespondsLaterFromAnotherThread() throws {
        try withServer { server, address in
            let client = try HTTPClient(address: address, timeoutMilliseconds: 5_000)
            let response = try client.send(.get, "/later?ms=30&x=1")
            #expect(response.status == .ok)
            #expect(String(decoding: response.body, as: UTF8.self) == "later ms=30&x=1")
            #expect(server.statistics.requestsInFlight == 0)
        }
    }

    @Test func expectContinueGetsInterim100() throws {
        try withServer { _, address in
            let connection = try RawConnection(to: address)
            try connection.send("POST /echo HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n")
            try connection.read(until: { String(decoding: $0, as: UTF8.self).contains("\r\n\r\n") })
            #expect(connection.text == "HTTP/1.1 100 Continue\r\n\r\n")
            connection.received.removeAll()
            try connection.send("body")
            #expect(try connection.readResponses(1).first?.hasSuffix("\r\n\r\nbody") == true)
        }
    }

    @Test func largeResponsesPassThroughSmallWriteBuffers() throws {
        try withServer(writeBufferBytesMax: 4_096) { _, address in
            let client = try HTTPClient(address: address)
            for _ in 0..<3 {
                let response = try client.send(.get, "/big?bytes=3000000")
                #expect(response.body.count == 3_000_000)
            }
        }
    }

    /// A client that pipelines requests for large responses and does not read them: the server
    /// must stop handling its requests once the output backs up, and resume when it is read.
    @Test func backpressureStopsHandlingUntilTheClientReads() throws {
        try withServer(writeBufferBytesMax: 64 << 10) { server, address in
            let connection = try RawConnection(to: address)
            // A small receive buffer keeps the kernel from absorbing the responses for us.
            try connection.descriptor.setOption(SOL_SOCKET, SO_RCVBUF, 64 << 10)
            let requestCount = 40
            let bodyBytes = 512 << 10
            let request = "GET /big?bytes=\(bodyBytes) HTTP/1.1\r\n\r\n"
            try connection.send(String(repeating: request, count: requestCount))
            usleep(300_000)
            // 20 MB of responses cannot all sit in loopback socket buffers, so the server must
            // have stopped before handling every request.
            let handledWhileBlocked = server.statistics.requestsTotal
            #expect(handledWhileBlocked < requestCount)
            try connection.read(until: { $0.count >= requestCount * bodyBytes }, timeoutMilliseconds: 20_000)
            try connection.read(until: { _ in false }, timeoutMilliseconds: 100)
            let responses = RawConnection.splitResponses(connection.received)
            #expect(responses.count == requestCount)
            #expect(server.statistics.requestsTotal == requestCount)
        }
    }

    @Test func http10WithoutKeepAliveIsClosedAfterTheResponse() throws {
        try withServer { _, address in
            let connection = try RawConnection(to: address)
            try connection.send("GET /hello HTTP/1.0\r\n\r\nGET /hello HTTP/1.0\r\n\r\n")
            let text = try connection.readUntilClosed()
            #expect(RawConnection.splitResponses(connection.received).count == 1)  // the second is never read
            #expect(text.contains("Connection: close"))
            #expect(connection.closedByPeer)
        }
    }

    @Test func halfClosedClientStillGetsItsResponse() throws {
        try withServer { _, address in
            let connection = try RawConnection(to: address)
            try connection.send("GET /later?ms=50 HTTP/1.1\r\n\r\n")
            connection.descriptor.shutdownWrite()
            let text = try connection.readUntilClosed()
            #expect(statusCode(text) == 200)
            #expect(text.hasSuffix("later ms=50"))
        }
    }

    @Test func responseForADisconnectedClientIsDropped() throws {
        try withServer { server, address in
            do {
                let connection = try RawConnection(to: address)
                try connection.send("GET /later?ms=150 HTTP/1.1\r\n\r\n")
                usleep(30_000)
            }  // closed here, before the handler responds
            for _ in 0..<100 where server.statistics.requestsInFlight > 0 || server.statistics.connectionsOpen > 0 {
                usleep(20_000)
            }
            #expect(server.statistics.requestsInFlight == 0)
            #expect(server.statistics.connectionsOpen == 0)
            // The loop is healthy afterwards.
            #expect(try HTTPClient(address: address).send(.get, "/hello").status == .ok)
        }
    }

    @Test func gracefulShutdownFinishesInFlightRequests() throws {
        let server = HTTPServer(configuration: HTTPServerConfiguration(limits: testLimits()), router: testRouter())
        let address = try server.start()
        let connection = try RawConnection(to: address)
        try connection.send("GET /later?ms=200 HTTP/1.1\r\n\r\n")
        usleep(50_000)  // let the request reach the handler
        let idle = try RawConnection(to: address)
        let stopper = OSThread.start(name: "test-stop") { server.shutdown(graceMilliseconds: 3_000) }
        let text = try connection.readUntilClosed()
        stopper.join()
        #expect(statusCode(text) == 200)
        #expect(text.contains("Connection: close"))
        #expect(text.hasSuffix("later ms=200"))
        _ = try idle.readUntilClosed(timeoutMilliseconds: 1_000)
        #expect(idle.closedByPeer)
        #expect((try? HTTPClient(address: address, timeoutMilliseconds: 500).send(.get, "/hello")) == nil)
    }
}
