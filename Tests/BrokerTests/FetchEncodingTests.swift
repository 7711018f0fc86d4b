import Auth
import HTTPServer
import MOMCore
import Synchronization
import SystemIO
import Testing
@testable import Broker

/// `OffloadWorker`, and fetch answers encoded on it (`--fetch-encoding offload`).
@Suite struct FetchEncodingTests {
    @Test func aLargePageIsEncodedOnTheWorkerAndReadsTheSameAsInline() async throws {
        let (node, inlineRouter) = try await SingleNodeTests.startNode()
        let encoder = OffloadWorker(name: "test-fetch-json", queueMax: 4)
        defer { encoder.stop() }
        let offloading = BrokerAPI(node: node, forwarder: Forwarder(pool: HTTPClientPool(threadCount: 1), peers: node.peers),
                                   gate: AuthGate(verifier: nil), loginWorker: nil, fetchEncoder: encoder).makeRouter()
        #expect(await SingleNodeTests.waitForMeta(node))
        #expect(await SingleNodeTests.call(inlineRouter, .post, "/v1/topics", #"{"name":"big","partitions":1,"replication_factor":1}"#).0 == 201)
        #expect(await SingleNodeTests.waitForLeaders(node, count: 2))
        let value = String(repeating: "v", count: 1024)
        let records = (0..<100).map { #"{"key":"k\#($0)","value":"\#(value)"}"# }.joined(separator: ",")
        #expect(await SingleNodeTests.call(inlineRouter, .post, "/v1/topics/big/records", #"{"records":[\#(records)]}"#).0 == 200)

        let small = "/v1/topics/big/partitions/0/records?offset=0&max_records=10"
        let whole = "/v1/topics/big/partitions/0/records?offset=0&max_records=200"
        let offloadedSmall = try #require(await BinaryBatchRouteTests.call(offloading, .get, small, body: [], headers: []))
        #expect(offloadedSmall.status.code == 200)
        #expect(encoder.completed == 0, "10 KiB of values are encoded where they were read")
        let offloaded = try #require(await BinaryBatchRouteTests.call(offloading, .get, whole, body: [], headers: []))
        #expect(encoder.completed == 1, "100 KiB of values are encoded on the worker")
        let inline = try #require(await BinaryBatchRouteTests.call(inlineRouter, .get, whole, body: [], headers: []))
        #expect(offloaded.status.code == 200 && inline.status.code == 200)
        #expect(offloaded.body == inline.body)
        #expect(offloaded.headers[FetchHeaders.nextOffset] == inline.headers[FetchHeaders.nextOffset])
        let page = try JSONValue(parsing: offloaded.body)
        #expect(page["records"]?.arrayValue?.count == 100, "\(String(decoding: offloaded.body.suffix(200), as: UTF8.self))")
    }

    @Test func theQueueIsBoundedAndStopRunsWhatWasQueued() {
        let worker = OffloadWorker(name: "test-offload", queueMax: 2)
        let gate = ConditionMutex()
        let release = Atomic<Bool>(false)
        let ran = Atomic<Int>(0)
        let blocking: @Sendable () -> Void = {
            let clock = SystemClock()
            gate.lock()
            // Bounded: waits at most ~10 s for the test to let it go.
            for _ in 0..<100 where !release.load(ordering: .acquiring) {
                gate.wait(untilMonotonicNanoseconds: clock.monotonicNanoseconds() + 100_000_000)
            }
            gate.unlock()
            ran.add(1, ordering: .relaxed)
        }
        let first = worker.submit(blocking)
        #expect(first)
        // The first job may still be queued or already running: fill until refused.
        var accepted = 1
        while accepted < 4 && worker.submit({ ran.add(1, ordering: .relaxed) }) { accepted += 1 }
        #expect(accepted <= 3, "at most two queued behind the running job")
        let overflow = worker.submit({})
        #expect(!overflow, "a full queue refuses")
        release.store(true, ordering: .releasing)
        gate.broadcast()
        worker.stop()
        #expect(ran.load(ordering: .relaxed) == accepted, "stop runs every accepted job")
        #expect(worker.completed == accepted)
        let afterStop = worker.submit({})
        #expect(!afterStop, "a stopped worker refuses")
    }

    /// A queue that never runs empty keeps bounded storage, and lets go of each job it hands
    /// out (a job may hold a 1.4 MB page).
    @Test func aQueueThatNeverEmptiesStaysBoundedAndReleasesItsJobs() {
        final class Page: Sendable {}
        var queue = JobQueue(compactAfter: 4)
        weak var released: Page?
        do {
            let page = Page()
            released = page
            queue.push({ _ = page })
        }
        queue.push({})
        do { queue.pop()?() }
        #expect(released == nil, "the queue still holds a job it handed out")
        for _ in 0..<1_000 {
            queue.push({})
            do { queue.pop()?() }
            #expect(queue.count == 1)
        }
        #expect(queue.storage.count <= 4 + 1, "taken slots are cut off: \(queue.storage.count) stored")
        _ = queue.pop()
        #expect(queue.count == 0 && queue.storage.isEmpty)
    }
}
