import HTTPServer
import Testing
@testable import Broker

/// A long-poll at the high watermark answers with the record that arrives during the wait.
/// Regression: the commit waiter woke when the commit index moved, before the entry was applied,
/// so the re-read found nothing new and the poll answered empty (ReadyPipeline now wakes
/// waiters on the applied commit).
@Suite struct FetchLongPollTests {
    @Test func fetchAtTheHighWatermarkWakesWithTheNewRecord() async throws {
        let (node, router) = try await ExchangeRouteTests.setUp(topics: [("t", 1)])
        let hwm = try #require(await SingleNodeTests.call(router, .get, "/v1/topics/t/partitions/0/records?offset=0").1?["high_watermark"]?.uint64Value)
        let waiting = Task { await SingleNodeTests.call(router, .get, "/v1/topics/t/partitions/0/records?offset=\(hwm)&wait_ms=20000") }
        try await Task.sleep(nanoseconds: 200_000_000)
        #expect(await SingleNodeTests.call(router, .post, "/v1/topics/t/records", #"{"records":[{"value":"late"}]}"#).0 == 200)
        let (status, body) = await waiting.value
        #expect(status == 200)
        #expect(body?["records"]?.arrayValue?.compactMap { $0["value"]?.stringValue } == ["late"])
        await node.stop()
    }
}
