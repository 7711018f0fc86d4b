import HTTPServer
import MOMCore

/// The measurements of one route template (`POST /v1/topics/{t}/records`): requests by status
/// and a latency histogram. Labels are the template, never the raw path, so a client cannot
/// create new series by inventing paths or names.
final class RouteMetrics: Sendable {
    let method: String
    let pattern: String
    /// One counter per status code 0...599 (the server sends nothing else; anything outside that
    /// range would be counted under 500).
    private let statusCounts = AtomicCounterArray(count: RouteMetrics.statusSlots)
    let latency = LatencyHistogram(buckets: .requests)
    static let statusSlots = 600

    init(method: String, pattern: String) {
        self.method = method
        self.pattern = pattern
    }

    func record(status: Int, nanoseconds: UInt64) {
        statusCounts.add(1, at: (0..<Self.statusSlots).contains(status) ? status : 500)
        latency.observe(nanoseconds: nanoseconds)
    }

    /// The statuses seen so far with their counts, in status order.
    func statusCountsSeen() -> [(status: Int, count: UInt64)] {
        var seen: [(status: Int, count: UInt64)] = []
        for status in 0..<Self.statusSlots {
            let count = statusCounts.value(at: status)
            if count > 0 { seen.append((status, count)) }
        }
        return seen
    }

    /// Wraps a handler: the clock starts when the handler is called and stops when it responds
    /// (after a Raft commit or a long-poll, possibly on another thread). The extra responder is
    /// the one allocation this needs; an inline response stays inline (the wrapper forwards it
    /// synchronously while the handler still runs on the event loop).
    func instrument(_ handler: @escaping HTTPHandler, clock: any Clock) -> HTTPHandler {
        { [self] request, responder in
            let start = clock.monotonicNanoseconds()
            let observed = HTTPResponder { response in
                let end = clock.monotonicNanoseconds()
                self.record(status: response.status.code, nanoseconds: end >= start ? end - start : 0)
                responder.send(response)
            }
            handler(request, observed)
        }
    }
}
