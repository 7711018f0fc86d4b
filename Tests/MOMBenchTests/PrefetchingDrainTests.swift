import HTTPServer
import MOMCore
import SystemIO
import Testing
@testable import mom_bench

/// `mom-bench consume`'s drain against a scripted partition: it reads everything up to the high
/// watermark exactly once, keeps at most one fetch ahead, retries 503s, and refuses an answer
/// whose head and body disagree.
@Suite struct PrefetchingDrainTests {
    /// A partition served page by page, with gaps in its offsets, recording what the drain did.
    final class ScriptedPartition: PipelinedConnection {
        let offsets: [UInt64]
        let pageSize: Int
        var unavailableAnswers: Int
        var misannounce = false
        var withHeader = true
        var queue: [UInt64] = []
        var fetched: [UInt64] = []
        var deepest = 0
        var writesFromHeads = 0
        private var inHead = false

        init(offsets: [UInt64], pageSize: Int, unavailableAnswers: Int = 0) {
            self.offsets = offsets
            self.pageSize = pageSize
            self.unavailableAnswers = unavailableAnswers
        }

        func write(_ request: HTTPRequest) throws(HTTPClientError) {
            guard let text = request.target.split(separator: "=").last, let offset = UInt64(text) else { throw .malformedResponse("bad target") }
            queue.append(offset)
            deepest = max(deepest, queue.count)
            if inHead { writesFromHeads += 1 }
        }

        func receive(onHead: HTTPClient.HeadHandler?) throws(HTTPClientError) -> HTTPResponse {
            guard let offset = queue.first else { throw .malformedResponse("nothing written") }
            // The answer being read stays unanswered until it has been read, as on a socket.
            defer { queue.removeFirst() }
            if unavailableAnswers > 0 {
                unavailableAnswers -= 1
                let response = HTTPResponse(status: HTTPStatus(code: 503), body: Array(#"{"error":{"code":"no_leader","message":"retry"}}"#.utf8))
                try onHead?(response.status, response.headers)
                return response
            }
            fetched.append(offset)
            let page = offsets.filter { $0 >= offset }.prefix(pageSize)
            let next = page.last.map { $0 + 1 } ?? offset
            var body = #"{"records":["#
            body += page.map { #"{"offset":\#($0),"timestamp_ms":1,"key":null,"value":"x{\"offset\":","headers":{}}"# }.joined(separator: ",")
            body += #"],"next_offset":\#(next),"high_watermark":99,"log_start_offset":0}"#
            var headers = HTTPHeaders()
            if withHeader { headers.set(name: FetchHeaders.nextOffset, value: String(misannounce ? next + 1 : next)) }
            inHead = true
            defer { inHead = false }
            try onHead?(.ok, headers)
            return HTTPResponse(status: .ok, headers: headers, body: Array(body.utf8))
        }
    }

    static func drain(_ partition: ScriptedPartition, until highWatermark: UInt64, prefetch: Bool, budget: Int = .max) throws -> (end: UInt64, records: Int) {
        var records = 0
        var drain = PrefetchingDrain(
            partition: 0, target: { "/records?offset=\($0)" }, headers: HTTPHeaders(), highWatermark: highWatermark,
            binary: false, prefetch: prefetch, shouldContinue: { records < budget }, clock: ManualClock())
        drain.sleepMicroseconds = { _ in }
        let end = try drain.run(from: 0, on: partition) { count, _ in records += count }
        return (end, records)
    }

    /// Offsets 0..<50 with every seventh missing (control records leave such gaps).
    static let gappy: [UInt64] = (0..<50).filter { $0 % 7 != 3 }

    @Test(arguments: [true, false])
    func readsEveryRecordOnceUpToTheHighWatermark(prefetch: Bool) throws {
        let partition = ScriptedPartition(offsets: Self.gappy, pageSize: 4)
        let (end, records) = try Self.drain(partition, until: 50, prefetch: prefetch)
        #expect(end == 50)
        #expect(records == Self.gappy.count)
        // Each fetch starts where the last page ended: no page is read twice, none skipped.
        #expect(partition.fetched == partition.fetched.sorted() && Set(partition.fetched).count == partition.fetched.count)
        #expect(partition.deepest == (prefetch ? 2 : 1))
        #expect(partition.writesFromHeads == (prefetch ? partition.fetched.count - 1 : 0))
    }

    @Test func withoutTheHeaderItWaitsForEachWholeAnswer() throws {
        let partition = ScriptedPartition(offsets: Self.gappy, pageSize: 4)
        partition.withHeader = false
        let (end, records) = try Self.drain(partition, until: 50, prefetch: true)
        #expect(end == 50 && records == Self.gappy.count)
        #expect(partition.deepest == 1)
    }

    @Test func retriesA503AtTheSameOffset() throws {
        let partition = ScriptedPartition(offsets: Self.gappy, pageSize: 10, unavailableAnswers: 3)
        let (end, records) = try Self.drain(partition, until: 50, prefetch: true)
        #expect(end == 50 && records == Self.gappy.count)
        #expect(partition.fetched.first == 0)
    }

    @Test func givesUpAfterBoundedRetries() {
        let partition = ScriptedPartition(offsets: Self.gappy, pageSize: 10, unavailableAnswers: PrefetchingDrain.unavailableRetriesMax + 1)
        #expect(throws: BenchNetworkError.self) { try Self.drain(partition, until: 50, prefetch: true) }
    }

    @Test func refusesAHeadThatDisagreesWithItsBody() {
        let partition = ScriptedPartition(offsets: Self.gappy, pageSize: 10)
        partition.misannounce = true
        #expect(throws: BenchNetworkError.self) { try Self.drain(partition, until: 50, prefetch: true) }
    }

    @Test func stopsAskingWhenTheBudgetIsSpent() throws {
        let partition = ScriptedPartition(offsets: Self.gappy, pageSize: 5)
        let (end, records) = try Self.drain(partition, until: 50, prefetch: true, budget: 12)
        // Pages of 5: when the third page's head arrives 10 < 12 records are counted, so the
        // fourth is asked for and read; the third brings 15 ≥ 12, and nothing is asked after it.
        #expect(records == 20)
        #expect(partition.fetched.count == 4)
        #expect(end < 50)
        #expect(partition.queue.isEmpty)
    }

    @Test func theRecordScanCountsRecordsNotLookalikesInsideStrings() {
        let body = Array(#"{"records":[{"offset":1,"value":"{\"offset\":"},{"offset":2,"value":"a"}],"next_offset":3}"#.utf8)
        let (records, next) = FetchScan.jsonCounts(body)
        #expect(records == 2 && next == 3)
        #expect(BodyScan.occurrences(of: Array("ab".utf8), in: Array("xxabab_a_bab".utf8)) == 3)
        #expect(BodyScan.occurrences(of: Array("{".utf8), in: []) == 0)
    }
}
