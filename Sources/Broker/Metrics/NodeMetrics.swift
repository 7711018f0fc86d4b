import HTTPServer
import MOMCore
import Synchronization

/// The counters and histograms of one node that `/metrics` exposes (docs/operations.md lists
/// what each means). Hot paths touch only relaxed atomics; the mutex guards the route list,
/// which changes only while the router is built.
final class NodeMetrics: Sendable {
    let clock: any Clock
    /// Slot 0: records, slot 1: key + value bytes, committed by this node as partition leader.
    let produced = AtomicCounterArray(count: 2)
    /// Slot 0: records, slot 1: key + value bytes, served by fetches on this node.
    let fetched = AtomicCounterArray(count: 2)
    /// Every fdatasync of a segment or state file on this node.
    let sync = LatencyHistogram(buckets: .sync)
    private let routes = Mutex<[RouteMetrics]>([])

    init(clock: any Clock) { self.clock = clock }

    func recordProduced(records: Int, bytes: Int) {
        produced.add(UInt64(records), at: 0)
        produced.add(UInt64(bytes), at: 1)
    }

    func recordFetched(records: Int, bytes: Int) {
        fetched.add(UInt64(records), at: 0)
        fetched.add(UInt64(bytes), at: 1)
    }

    /// Wraps every handler of `router` so its requests are counted by route template and status.
    func instrument(_ router: inout Router) {
        router.wrapHandlers { method, pattern, handler in
            let route = RouteMetrics(method: method.rawValue, pattern: pattern)
            routes.withLock { $0.append(route) }
            return route.instrument(handler, clock: clock)
        }
    }

    /// The routes measured, sorted by template then method (a stable exposition order).
    func routeMetrics() -> [RouteMetrics] {
        routes.withLock { $0 }.sorted { ($0.pattern, $0.method) < ($1.pattern, $1.method) }
    }
}
