import Glibc
import HTTPServer
import MOMCore
import SystemIO

/// What the consume loop needs of a connection: pipelined writes and in-order answers
/// (`HTTPClient`; a scripted fake in the tests).
protocol PipelinedConnection: AnyObject {
    func write(_ request: HTTPRequest) throws(HTTPClientError)
    func receive(onHead: HTTPClient.HeadHandler?) throws(HTTPClientError) -> HTTPResponse
}

extension HTTPClient: PipelinedConnection {}

/// Reads one partition from an offset up to a high watermark, one page per fetch. With
/// `prefetch`, the next fetch is written as soon as an answer's head names its next offset
/// (`MOM-Next-Offset`), so the server prepares page N+1 while page N's body is still arriving
/// and being counted: at most two fetches are unanswered. Without it (or when an answer has no
/// such header) the next fetch waits for the whole answer.
///
/// Bounded: a 503 is retried at most `unavailableRetriesMax` times in a row with backoff capped
/// at 500 ms; an answer that does not move the offset counts as a stall, at most `stallsMax`.
struct PrefetchingDrain {
    static let unavailableRetriesMax = 40
    static let stallsMax = 100

    let partition: Int
    /// The request target for a fetch at an offset.
    let target: (UInt64) -> String
    let headers: HTTPHeaders
    let highWatermark: UInt64
    let binary: Bool
    let prefetch: Bool
    /// Whether to ask for more (the run's deadline and message budget).
    let shouldContinue: () -> Bool
    let clock: any Clock
    var sleepMicroseconds: (UInt32) -> Void = { usleep($0) }

    /// Returns the offset reached; `delivered` gets each page's record count and the time from
    /// its fetch's write to its whole answer.
    func run(from start: UInt64, on connection: PipelinedConnection, delivered: (_ records: Int, _ nanoseconds: UInt64) -> Void) throws -> UInt64 {
        var offset = start
        // Fetches written and not yet answered, oldest first: at most two.
        var unanswered: [(offset: UInt64, began: UInt64)] = []
        func send(_ at: UInt64) throws(HTTPClientError) {
            assert(unanswered.count < 2, "more than one fetch ahead")
            try connection.write(HTTPRequest(method: .get, target: target(at), headers: headers))
            unanswered.append((at, clock.monotonicNanoseconds()))
        }
        guard offset < highWatermark && shouldContinue() else { return offset }
        try send(offset)
        var stalls = 0
        var unavailable = 0
        var backoffMilliseconds: UInt32 = 10
        // Bounded: each pass either moves the offset, or counts a stall or a 503 (both capped).
        while let current = unanswered.first {
            var announced: UInt64?
            let response = try connection.receive { status, head throws(HTTPClientError) in
                guard status.code == 200, let next = head[FetchHeaders.nextOffset].flatMap(UInt64.init) else { return }
                announced = next
                if prefetch && unanswered.count == 1 && next > current.offset && next < highWatermark && shouldContinue() {
                    try send(next)
                }
            }
            unanswered.removeFirst()
            let elapsed = clock.monotonicNanoseconds() &- current.began
            if response.status.code == 503 {
                // No fetch went ahead (that needs a 200): ask again for the same offset.
                unavailable += 1
                guard unavailable < Self.unavailableRetriesMax else {
                    throw BenchNetworkError(description: "partition \(partition): still 503 after \(Self.unavailableRetriesMax) retries at offset \(current.offset)")
                }
                sleepMicroseconds(backoffMilliseconds * 1000)
                backoffMilliseconds = min(backoffMilliseconds * 2, 500)
                try send(current.offset)
                continue
            }
            guard response.status.code == 200 else {
                let text = String(decoding: response.body.prefix(300), as: UTF8.self)
                throw BenchNetworkError(description: "GET \(target(current.offset)) → \(response.status.code): \(text)")
            }
            unavailable = 0
            backoffMilliseconds = 10
            let (records, nextOffset) = binary ? FetchScan.binaryHeader(response.body) : FetchScan.jsonCounts(response.body)
            guard let next = nextOffset else {
                throw BenchNetworkError(description: "fetch answer without next_offset: \(String(decoding: response.body.prefix(200), as: UTF8.self))")
            }
            if let announced, announced != next {
                throw BenchNetworkError(description: "partition \(partition): the head announced next offset \(announced), the body says \(next)")
            }
            if next <= current.offset {
                stalls += 1
                guard stalls < Self.stallsMax else {
                    throw BenchNetworkError(description: "partition \(partition): no progress at offset \(current.offset) after \(Self.stallsMax) fetches")
                }
            }
            delivered(records, elapsed)
            offset = max(offset, next)
            if unanswered.isEmpty && offset < highWatermark && shouldContinue() { try send(offset) }
        }
        return offset
    }
}
