import Glibc
import MOMCore
import Synchronization
import SystemIO
import Testing
@testable import HTTPServer

/// Rough throughput measurement, off by default (it asserts nothing about speed).
/// `MOM_HTTP_LOAD=1 swift test -c release --filter LoadTests` prints requests per second for a
/// trivial handler; `MOM_HTTP_SERVE_SECONDS=N` instead serves on a printed port for N seconds
/// (at most 120) so an external tool such as wrk can drive it.
@Suite struct LoadTests {
    static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    @Test(.enabled(if: environment("MOM_HTTP_LOAD") != nil))
    func loopbackKeepAliveLoad() throws {
        let loops = Int(Self.environment("MOM_HTTP_LOOPS") ?? "1") ?? 1
        var router = Router()
        router.add(.get, "/ping") { _ in .text(.ok, "pong") }
        try withServer(eventLoopCount: loops, router: router) { server, address in
            let clientCount = 4
            let requestsPerClientMax = 100_000
            let durationNanoseconds: UInt64 = 3_000_000_000
            let completed = Atomic<Int>(0)
            let clock = SystemClock()
            let start = clock.monotonicNanoseconds()
            let threads = (0..<clientCount).map { _ in
                OSThread.start(name: "load-client") {
                    guard let client = try? HTTPClient(address: address) else { return }
                    var count = 0
                    while count < requestsPerClientMax && clock.monotonicNanoseconds() - start < durationNanoseconds {
                        guard (try? client.send(.get, "/ping"))?.status == .ok else { return }
                        count += 1
                    }
                    completed.add(count, ordering: .relaxed)
                }
            }
            for thread in threads { thread.join() }
            let seconds = Double(clock.monotonicNanoseconds() - start) / 1e9
            let total = completed.load(ordering: .relaxed)
            print("HTTP load: \(total) requests in \(seconds) s = \(Int(Double(total) / seconds)) req/s (\(clientCount) blocking clients, \(loops) loop(s))")
            #expect(total > 0)
            #expect(server.statistics.requestsTotal == total)
        }
    }

    @Test(.enabled(if: environment("MOM_HTTP_SERVE_SECONDS") != nil))
    func serveForExternalLoad() throws {
        let seconds = min(UInt32(Self.environment("MOM_HTTP_SERVE_SECONDS") ?? "10") ?? 10, 120)
        let loops = Int(Self.environment("MOM_HTTP_LOOPS") ?? "1") ?? 1
        var router = Router()
        router.add(.get, "/ping") { _ in .text(.ok, "pong") }
        var limits = testLimits(connectionsMax: 1_024)
        limits.requestsInFlightMax = 8_192
        try withServer(limits: limits, eventLoopCount: loops, router: router) { server, address in
            // Unbuffered, so a driver script sees the port while the test is still running.
            let line = Array("HTTP serve: listening on \(address) for \(seconds) s\n".utf8)
            _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
            sleep(seconds)
            print("HTTP serve: \(server.statistics.requestsTotal) requests")
        }
    }
}

/// Rough JSON throughput on a produce-shaped body, off by default (no timing assertions).
@Suite struct JSONLoadTests {
    @Test(.enabled(if: LoadTests.environment("MOM_HTTP_LOAD") != nil))
    func produceBodyParseAndWrite() throws {
        var writer = JSONWriter(reservingCapacity: 1 << 20)
        writer.beginObject()
        writer.key("records")
        writer.beginArray()
        for index in 0..<5_000 {
            writer.beginObject()
            writer.key("key"); writer.string("key-\(index)")
            writer.key("value"); writer.string("{\"order\":\(index),\"item\":\"widget\",\"note\":\"caf\\u00e9 \u{1F600}\"}")
            writer.key("headers"); writer.beginObject(); writer.key("trace"); writer.string("abc\(index)"); writer.endObject()
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        let body = writer.bytes
        let clock = SystemClock()
        let rounds = 50
        let start = clock.monotonicNanoseconds()
        var records = 0
        for _ in 0..<rounds {
            records += try JSONValue(parsing: body)["records"]?.arrayValue?.count ?? 0
        }
        let parseSeconds = Double(clock.monotonicNanoseconds() - start) / 1e9
        let value = try JSONValue(parsing: body)
        let writeStart = clock.monotonicNanoseconds()
        var written = 0
        for _ in 0..<rounds { written += value.serialized().count }
        let writeSeconds = Double(clock.monotonicNanoseconds() - writeStart) / 1e9
        let megabytes = Double(body.count * rounds) / 1e6
        print("JSON: body \(body.count) bytes; parse \(Int(megabytes / parseSeconds)) MB/s (\(Int(Double(records) / parseSeconds)) records/s); write \(Int(Double(written) / 1e6 / writeSeconds)) MB/s")
        #expect(records == 5_000 * rounds)
    }
}
