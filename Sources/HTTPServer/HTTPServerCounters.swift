import Synchronization

/// Counts shared by every event loop of one server, so `connectionsMax` and
/// `requestsInFlightMax` bound the whole server, not each loop.
final class HTTPServerCounters: Sendable {
    let connectionsOpen = Atomic<Int>(0)
    let requestsInFlight = Atomic<Int>(0)
    let requestsTotal = Atomic<Int>(0)
    let connectionsRejected = Atomic<Int>(0)
    let requestsRejected = Atomic<Int>(0)

    /// Takes one unit of `counter` unless that would exceed `maximum`.
    static func tryAcquire(_ counter: borrowing Atomic<Int>, maximum: Int) -> Bool {
        let value = counter.add(1, ordering: .relaxed).newValue
        if value > maximum {
            counter.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }
}

/// A snapshot of a server's load, for `/metrics` and tests.
public struct HTTPServerStatistics: Sendable, Equatable {
    /// Connections currently open (lingering rejected ones excluded).
    public var connectionsOpen: Int
    /// Requests handed to a handler and not yet answered.
    public var requestsInFlight: Int
    /// Requests handed to a handler since start.
    public var requestsTotal: Int
    /// Connections answered 503 at accept because `connectionsMax` was reached.
    public var connectionsRejected: Int
    /// Requests answered 503 because `requestsInFlightMax` was reached.
    public var requestsRejected: Int
}
