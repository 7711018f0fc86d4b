import Glibc
import MOMCore
import Synchronization
import SystemIO
import Testing
@testable import HTTPServer

/// Plays the replication loop for a driven HTTP server: one thread waits in an epoll set of its
/// own that holds the server's descriptor, turns the server, then runs the work its handlers
/// queued "for the loop" (as a produce's answer is sent by the thread that sees the commit).
private final class TestLoop: @unchecked Sendable {
    private let queued = Mutex<[@Sendable () -> Void]>([])
    private let stopping = Atomic<Bool>(false)
    /// After each queued response the loop ran: whether the server then reported work without
    /// an event (it must, or that response waits for the next socket event or sweep).
    let immediateAfterLocalResponse = Mutex<[Bool]>([])
    private var thread: OSThread?

    /// Handler side (runs on the loop thread): runs `body` on the loop after this turn.
    func later(_ body: @escaping @Sendable () -> Void) { queued.withLock { $0.append(body) } }

    func start(_ driver: HTTPServerDriver) {
        thread = OSThread.start(name: "test-driving") { [self] in
            do {
                let epoll = try Epoll()
                try epoll.add(driver.descriptor, events: .readable, token: 1)
                drive(driver, epoll)
            } catch {
                Issue.record("epoll: \(error)")
            }
            driver.detach()
        }
    }

    private func drive(_ driver: HTTPServerDriver, _ epoll: borrowing Epoll) {
        let clock = SystemClock()
        var turns = 0
        while !stopping.load(ordering: .acquiring) && turns < 1_000_000 {
            turns += 1
            let now = clock.monotonicNanoseconds()
            let deadline = driver.nextDeadlineNanoseconds
            let wait = driver.hasImmediateWork || deadline <= now ? 0 : Int32(min(20, (deadline - now) / 1_000_000 + 1))
            _ = try? epoll.wait(timeoutMilliseconds: wait) { _ in }
            driver.turn()
            for body in queued.withLock({ queue in defer { queue.removeAll() }; return queue }) {
                body()
                immediateAfterLocalResponse.withLock { $0.append(driver.hasImmediateWork) }
            }
        }
    }

    /// Ends the driving loop (as the replication loop ends when the node stops).
    func stop() {
        stopping.store(true, ordering: .releasing)
        thread?.join()
    }
}

@Suite struct DrivenServerTests {
    private static func router(_ loop: TestLoop) -> Router {
        var router = testRouter()
        router.addDeferred(.get, "/on-loop") { request, responder in
            let body = request.rawQuery ?? ""
            loop.later { responder.send(.text(.ok, "on-loop \(body)")) }
        }
        return router
    }

    /// Runs `body` against a driven server and always stops the loop, then the server.
    private static func withDrivenServer(limits: Limits = testLimits(), _ body: (TestLoop, SocketAddress) throws -> Void) throws {
        let loop = TestLoop()
        let server = HTTPServer(configuration: HTTPServerConfiguration(limits: limits), router: router(loop))
        let (driver, address) = try server.startDriven()
        loop.start(driver)
        defer {
            loop.stop()
            server.shutdown(graceMilliseconds: 1_000)
        }
        try body(loop, address)
    }

    @Test func aDrivenServerAnswersOnItsDriversThreadAndFromOthers() throws {
        try Self.withDrivenServer { loop, address in
            let connection = try RawConnection(to: address)
            // Inline, later from another thread, and later from the driving thread, pipelined.
            try connection.send("GET /hello HTTP/1.1\r\n\r\nGET /later?ms=20&id=2 HTTP/1.1\r\n\r\nGET /on-loop?id=3 HTTP/1.1\r\n\r\nGET /hello HTTP/1.1\r\n\r\n")
            let responses = try connection.readResponses(4)
            #expect(responses.count == 4)
            #expect(responses.first?.hasSuffix("hello") == true)
            #expect(responses.dropFirst().first?.hasSuffix("later ms=20&id=2") == true)
            #expect(responses.dropFirst(2).first?.hasSuffix("on-loop id=3") == true)
            #expect(responses.last?.hasSuffix("hello") == true)
            // A response the driving thread sent itself did not signal; the server said so instead.
            let flags = loop.immediateAfterLocalResponse.withLock { $0 }
            #expect(!flags.isEmpty)
            #expect(flags.allSatisfy { $0 })
            // Keep-alive on a second connection, after the first.
            let client = try HTTPClient(address: address)
            #expect(try client.send(.get, "/on-loop?id=5").status == .ok)
            #expect(try client.send(.post, "/echo", body: Array("abc".utf8)).body == Array("abc".utf8))
        }
    }

    @Test func timeoutsApplyOnADrivenServer() throws {
        try Self.withDrivenServer(limits: testLimits(headerReadTimeoutMilliseconds: 100)) { _, address in
            let connection = try RawConnection(to: address)
            try connection.send("GET /hello HTTP/1.1\r\nHost: x\r\n")
            let text = try connection.readUntilClosed(timeoutMilliseconds: 5_000)
            #expect(statusCode(text) == 408)
            #expect(connection.closedByPeer)
        }
    }

    /// The driving loop ends (the node stopped) with a request in flight; shutdown then runs the
    /// server's last turns itself, and the response still reaches the client.
    @Test func shutdownAfterTheDriverStopsStillAnswersInFlightRequests() throws {
        let loop = TestLoop()
        let server = HTTPServer(configuration: HTTPServerConfiguration(limits: testLimits()), router: Self.router(loop))
        let (driver, address) = try server.startDriven()
        loop.start(driver)
        let connection = try RawConnection(to: address)
        try connection.send("GET /later?ms=300 HTTP/1.1\r\n\r\n")
        #expect(try HTTPClient(address: address).send(.get, "/hello").status == .ok)  // the loop has served
        loop.stop()
        let stopper = OSThread.start(name: "test-stop") { server.shutdown(graceMilliseconds: 3_000) }
        let text = try connection.readUntilClosed()
        stopper.join()
        #expect(statusCode(text) == 200)
        #expect(text.hasSuffix("later ms=300"))
        #expect((try? HTTPClient(address: address, timeoutMilliseconds: 500).send(.get, "/hello")) == nil)
    }

    /// Shutdown while the driver still runs: the driver finishes the loop; shutdown waits for it.
    @Test func shutdownWhileDrivenIsFinishedByTheDriver() throws {
        let loop = TestLoop()
        let server = HTTPServer(configuration: HTTPServerConfiguration(limits: testLimits()), router: Self.router(loop))
        let (driver, address) = try server.startDriven()
        loop.start(driver)
        defer { loop.stop() }
        let connection = try RawConnection(to: address)
        try connection.send("GET /later?ms=200 HTTP/1.1\r\n\r\n")
        #expect(try HTTPClient(address: address).send(.get, "/hello").status == .ok)
        server.shutdown(graceMilliseconds: 3_000)
        let text = try connection.readUntilClosed()
        #expect(statusCode(text) == 200)
        #expect(text.contains("Connection: close"))
        #expect((try? HTTPClient(address: address, timeoutMilliseconds: 500).send(.get, "/hello")) == nil)
    }
}
