/// A Prometheus histogram of durations with fixed buckets, lock-free to observe.
///
/// Each bucket counts observations at most its bound and above the previous one; the
/// cumulative `le` counts are summed at render time. The count is derived from the buckets
/// read, so a scrape racing an observation still shows `+Inf == _count`.
final class LatencyHistogram: Sendable {
    /// Upper bounds in nanoseconds, ascending, with their `le` label spelled in seconds.
    struct Buckets: Sendable {
        let boundsNanoseconds: [UInt64]
        let labels: [String]

        init(seconds: [String]) {
            labels = seconds
            boundsNanoseconds = seconds.map { label in
                guard let value = Double(label), value > 0 else { preconditionFailure("bad bucket bound \(label)") }
                return UInt64((value * 1_000_000_000).rounded())
            }
            precondition(zip(boundsNanoseconds, boundsNanoseconds.dropFirst()).allSatisfy { $0 < $1 }, "bucket bounds must ascend")
        }

        /// Request latency: 0.5 ms to 30 s (long-polls wait up to `longPollWaitMillisecondsMax`).
        static let requests = Buckets(seconds: [
            "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30",
        ])
        /// fdatasync latency: 50 µs (NVMe with a write cache) to 2.5 s (a struggling disk).
        static let sync = Buckets(seconds: [
            "0.00005", "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5",
        ])
    }

    /// What a scrape reads.
    struct Snapshot: Equatable {
        /// Cumulative counts, one per bound, then `+Inf`.
        var cumulativeCounts: [UInt64]
        var sumNanoseconds: UInt64
        var count: UInt64 { cumulativeCounts.last ?? 0 }
    }

    let buckets: Buckets
    /// Slots 0..<bounds: per-bucket counts; slot bounds: above the last bound; last: the sum.
    private let counters: AtomicCounterArray

    init(buckets: Buckets) {
        self.buckets = buckets
        counters = AtomicCounterArray(count: buckets.boundsNanoseconds.count + 2)
    }

    func observe(nanoseconds: UInt64) {
        let bounds = buckets.boundsNanoseconds
        var slot = bounds.count
        for index in bounds.indices where nanoseconds <= bounds[index] {
            slot = index
            break
        }
        counters.add(1, at: slot)
        counters.add(nanoseconds, at: bounds.count + 1)
    }

    func snapshot() -> Snapshot {
        let bucketCount = buckets.boundsNanoseconds.count
        var cumulative: [UInt64] = []
        cumulative.reserveCapacity(bucketCount + 1)
        var running: UInt64 = 0
        for slot in 0...bucketCount {
            running &+= counters.value(at: slot)
            cumulative.append(running)
        }
        return Snapshot(cumulativeCounts: cumulative, sumNanoseconds: counters.value(at: bucketCount + 1))
    }
}
