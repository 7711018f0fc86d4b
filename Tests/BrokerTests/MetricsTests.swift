import Coordination
import Glibc
import HTTPServer
import MOMCore
import Replication
import SystemIO
import Testing
@testable import Broker

/// `/metrics`: the writer's output must pass a strict exposition parser, the parser must reject
/// malformed text, and the figures must move with real traffic on a node with segment logs.
@Suite struct MetricsTests {
    // MARK: The parser rejects what a scraper would reject

    static let valid = """
        # HELP requests_total Requests, with a \\\\ backslash and a\\nnewline in help.
        # TYPE requests_total counter
        requests_total{route="/v1/topics/{t}",status="200"} 3
        requests_total{route="a\\"b\\\\c\\nd",status="500",} 1 1700000000000
        # TYPE latency_seconds histogram
        latency_seconds_bucket{le="0.1"} 1
        latency_seconds_bucket{le="1"} 2
        latency_seconds_bucket{le="+Inf"} 3
        latency_seconds_sum 4.5
        latency_seconds_count 3
        # a plain comment
        untyped_thing 1e-05

        """

    @Test func parserAcceptsValidExposition() throws {
        let families = try ExpositionParser.parse(Self.valid)
        #expect(families.map(\.name) == ["requests_total", "latency_seconds", "untyped_thing"])
        #expect(families[0].help == "Requests, with a \\ backslash and a\nnewline in help.")
        #expect(families.value("requests_total", ["route": "a\"b\\c\nd"]) == 1)
        #expect(families.value("latency_seconds_count") == 3)
        #expect(families.value("untyped_thing") == 0.00001)
    }

    /// Each case breaks one rule; the parser must reject every one (and accept the valid text
    /// above, so a parser that rejects everything fails too).
    @Test(arguments: [
        ("bad metric name", "# TYPE 1x counter\n1x 1\n"),
        ("bad label name", "x{1a=\"v\"} 1\n"),
        ("unquoted label value", "x{a=v} 1\n"),
        ("unescaped quote in a label value", "x{a=\"v\"w\"} 1\n"),
        ("unknown escape", "x{a=\"v\\t\"} 1\n"),
        ("dangling backslash in help", "# HELP x oops \\\n"),
        ("label given twice", "x{a=\"1\",a=\"2\"} 1\n"),
        ("unterminated label set", "x{a=\"1\" 1\n"),
        ("hex value", "x 0x10\n"),
        ("missing value", "x{a=\"1\"}\n"),
        ("bad timestamp", "x 1 soon\n"),
        ("no trailing newline", "x 1"),
        ("duplicate series", "x{a=\"1\"} 1\nx{a=\"1\"} 2\n"),
        ("duplicate series, label order", "x{a=\"1\",b=\"2\"} 1\nx{b=\"2\",a=\"1\"} 2\n"),
        ("unknown type", "# TYPE x countr\nx 1\n"),
        ("TYPE after samples", "x 1\n# TYPE x counter\n"),
        ("second TYPE", "# TYPE x counter\n# TYPE x counter\nx 1\n"),
        ("second HELP", "# HELP x a\n# HELP x b\nx 1\n"),
        ("family not contiguous", "# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\nx{a=\"2\"} 2\n"),
        ("negative counter", "# TYPE x counter\nx -1\n"),
        ("histogram without +Inf", "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n"),
        ("histogram +Inf != count", "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n"),
        ("histogram not cumulative", "# TYPE h histogram\nh_bucket{le=\"1\"} 5\nh_bucket{le=\"2\"} 4\nh_bucket{le=\"+Inf\"} 5\nh_sum 1\nh_count 5\n"),
        ("histogram without _sum", "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n"),
        ("histogram without _count", "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\n"),
        ("bucket without le", "# TYPE h histogram\nh_bucket 1\nh_sum 1\nh_count 1\n"),
        ("histogram sample after another family", "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n# TYPE g gauge\ng 1\nh_sum{a=\"1\"} 1\n"),
    ])
    func parserRejectsMalformedExposition(_ testCase: (String, String)) {
        #expect(throws: ExpositionParser.Failure.self, "accepted: \(testCase.0)") { try ExpositionParser.parse(testCase.1) }
    }

    // MARK: Writer and histogram

    @Test func writerEscapesLabelValuesAndHelp() throws {
        var writer = ExpositionWriter()
        let nasty = "a\\b\"c\nd{e}=f,g"
        writer.family("mom_test_total", .counter, help: "help with \\ and\nnewline")
        writer.sample("mom_test_total", [("name", nasty), ("other", "")], 7)
        let families = try ExpositionParser.parse(writer.text)
        #expect(families.value("mom_test_total", ["name": nasty, "other": ""]) == 7)
        #expect(families.first?.help == "help with \\ and\nnewline")
        #expect(ExpositionWriter.isMetricName("mom_a:b_1") && !ExpositionWriter.isMetricName("1mom") && !ExpositionWriter.isMetricName("mom-a"))
        #expect(ExpositionWriter.isLabelName("_a1") && !ExpositionWriter.isLabelName("a:b") && !ExpositionWriter.isLabelName(""))
    }

    @Test func histogramBucketsAreCumulativeAndBoundsInclusive() throws {
        let histogram = LatencyHistogram(buckets: .requests)
        histogram.observe(nanoseconds: 0)
        histogram.observe(nanoseconds: 500_000) // exactly le="0.0005": inclusive
        histogram.observe(nanoseconds: 500_001) // le="0.001"
        histogram.observe(nanoseconds: 40_000_000_000) // above 30 s: +Inf only
        let snapshot = histogram.snapshot()
        #expect(snapshot.cumulativeCounts.first == 2)
        #expect(snapshot.cumulativeCounts[1] == 3)
        #expect(snapshot.cumulativeCounts[snapshot.cumulativeCounts.count - 2] == 3)
        #expect(snapshot.count == 4)
        #expect(snapshot.sumNanoseconds == 40_001_000_001)
        var writer = ExpositionWriter()
        writer.family("mom_h_seconds", .histogram, help: "h")
        writer.histogram("mom_h_seconds", [("route", "/x")], snapshot, buckets: histogram.buckets)
        let families = try ExpositionParser.parse(writer.text)
        #expect(families.value("mom_h_seconds_bucket", ["route": "/x", "le": "+Inf"]) == 4)
        #expect(families.value("mom_h_seconds_sum", ["route": "/x"]) == 40.001000001)
    }

    // MARK: A node with segment logs, driven through its instrumented router

    static func makeDirectory() throws -> String {
        var template = Array("\(String(cString: getenv("TMPDIR") ?? strdup("/tmp")))/mom-metrics.XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else { throw Errno(errno) }
        return String(cString: made)
    }

    static func request(_ router: Router, _ method: HTTPMethod, _ target: String, _ body: String? = nil) async -> HTTPResponse {
        var headers = HTTPHeaders()
        if body != nil { headers.set(name: "Content-Type", value: "application/json") }
        return await router.response(for: HTTPRequest(method: method, target: target, headers: headers, body: Array((body ?? "").utf8)))
    }

    static func scrape(_ router: Router) async throws -> [ExpositionParser.Family] {
        let response = await request(router, .get, "/metrics")
        #expect(response.status.code == 200)
        #expect(response.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8")
        return try ExpositionParser.parse(String(decoding: response.body, as: UTF8.self))
    }

    @Test func figuresMoveWithProduceAndFetch() async throws {
        let directory = try Self.makeDirectory()
        defer { try? FileSystemCalls.removeTree(directory) }
        let config = try NodeConfig.parse(arguments: [
            "--node-id", "1", "--data-dir", directory, "--http-listen", "127.0.0.1:1", "--raft-listen", "127.0.0.1:2", "--tick-ms", "10",
        ])
        let clock = SystemClock()
        let metrics = NodeMetrics(clock: clock)
        let fileSystem = MeasuredFileSystem(PosixFileSystem(), syncLatency: metrics.sync, clock: clock)
        // As momd runs by default: group commit with syncfs, storage writes adaptive.
        let fileSystemSync = MeasuredFileSystemSync(try PosixFileSystemSync(directory: directory), syncLatency: metrics.sync, clock: clock)
        let factory = SegmentGroupLogFactory(dataDirectory: directory, fileSystem: fileSystem, limits: .standard, clock: clock,
                                             fileSystemSync: fileSystemSync)
        let node = BrokerNode(config: config, coordinator: InMemoryCoordinator(), link: SingleNodeTests.NullLink(), logFactory: factory,
                              clock: clock, limits: .standard, randomSeed: 1, metrics: metrics, fileSystemSync: fileSystemSync)
        try await node.start()
        let api = BrokerAPI(node: node, forwarder: Forwarder(pool: HTTPClientPool(threadCount: 1), peers: node.peers), gate: AuthGate(verifier: nil), loginWorker: nil)
        let router = api.makeInstrumentedRouter()
        #expect(await SingleNodeTests.waitForMeta(node))
        #expect(await Self.request(router, .post, "/v1/topics", #"{"name":"orders","partitions":1}"#).status.code == 201)
        #expect(await SingleNodeTests.waitForLeaders(node, count: 2))

        let before = try await Self.scrape(router)
        let partition = ["owner": "topic:orders/0"]
        #expect(before.value("mom_produce_records_total") == 0)
        #expect(before.value("mom_raft_role", partition.merging(["role": "leader"]) { $1 }) == 1)
        #expect(before.value("mom_raft_role", partition.merging(["role": "follower"]) { $1 }) == 0)
        #expect(before.value("mom_coordinator_session_state", ["state": "connected"]) == 1)
        #expect((before.value("mom_raft_term", partition) ?? 0) >= 1)
        #expect((before.value("mom_raft_leader_changes_total", partition) ?? 0) >= 1)
        #expect((before.value("mom_segment_count", partition) ?? 0) >= 1)
        let syncsBefore = try #require(before.value("mom_fdatasync_duration_seconds_count"))
        let commitBefore = try #require(before.value("mom_raft_commit_index", partition))
        let bytesBefore = try #require(before.value("mom_segment_bytes", partition))
        let inlineBefore = try #require(before.value("mom_storage_syncs_total", ["thread": "inline"]))

        let produce = await Self.request(router, .post, "/v1/topics/orders/records", #"{"records":[{"value":"alpha"},{"key":"k","value":"beta"}]}"#)
        #expect(produce.status.code == 200)
        #expect(await Self.request(router, .post, "/v1/topics/orders/records", #"{"records":[{"value":"x"}]}"#).status.code == 200)
        #expect(await Self.request(router, .get, "/v1/topics/orders/partitions/0/records?offset=0").status.code == 200)
        #expect(await Self.request(router, .get, "/v1/topics/nope/partitions/0/records?offset=0").status.code == 404)

        let after = try await Self.scrape(router)
        #expect(after.value("mom_produce_records_total") == 3)
        #expect(after.value("mom_produce_bytes_total") == 11)
        #expect(after.value("mom_fetch_records_total") == 3)
        #expect(after.value("mom_fetch_bytes_total") == 11)
        let produceRoute = ["method": "POST", "route": "/v1/topics/{t}/records"]
        let fetchRoute = ["method": "GET", "route": "/v1/topics/{t}/partitions/{p}/records"]
        #expect(after.value("mom_http_requests_total", produceRoute.merging(["status": "200"]) { $1 }) == 2)
        #expect(after.value("mom_http_requests_total", fetchRoute.merging(["status": "200"]) { $1 }) == 1)
        #expect(after.value("mom_http_requests_total", fetchRoute.merging(["status": "404"]) { $1 }) == 1)
        #expect(after.value("mom_http_request_duration_seconds_count", produceRoute) == 2)
        #expect(after.value("mom_http_request_duration_seconds_bucket", produceRoute.merging(["le": "+Inf"]) { $1 }) == 2)
        #expect(after.value("mom_http_requests_total", ["route": "/metrics", "status": "200"]) == 1, "the first scrape is counted")
        #expect(after.samples("mom_http_requests_total").allSatisfy { !($0.labels["route"] ?? "").contains("orders") }, "routes are templates, not paths")
        #expect(try #require(after.value("mom_fdatasync_duration_seconds_count")) > syncsBefore)
        #expect(try #require(after.value("mom_raft_commit_index", partition)) >= commitBefore + 2)
        #expect(try #require(after.value("mom_segment_bytes", partition)) > bytesBefore)
        // --storage-writes adaptive (the default): an idle node syncs a lone produce on its loop.
        #expect(try #require(after.value("mom_storage_syncs_total", ["thread": "inline"])) > inlineBefore)
        #expect(after.value("mom_storage_syncs_total", ["thread": "background"]) != nil)
        // Idle again, both groups (the catalog's and the partition's) quiesce (--quiesce on).
        var quiesced: Double?
        for _ in 0..<300 {
            quiesced = try await Self.scrape(router).value("mom_raft_groups_quiesced")
            if quiesced == 2 { break }
            try await Task.sleep(nanoseconds: 10_000_000)
        }
        #expect(quiesced == 2)
        await node.stop()
    }
}
