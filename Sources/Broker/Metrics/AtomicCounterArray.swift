import Synchronization

/// A fixed number of `UInt64` counters that any thread bumps without a lock (relaxed atomics).
///
/// `Atomic` is non-copyable, so it cannot live in an `Array`; the counters sit in one heap block
/// owned by this object. Readers see each counter's latest value, not a snapshot across counters:
/// `/metrics` tolerates that (every counter only grows), and histograms derive their count from
/// the buckets they read, so `+Inf` always equals `_count`.
final class AtomicCounterArray: Sendable {
    let count: Int
    private nonisolated(unsafe) let storage: UnsafeMutablePointer<Atomic<UInt64>>

    init(count: Int) {
        precondition(count > 0, "an empty counter array")
        self.count = count
        storage = UnsafeMutablePointer<Atomic<UInt64>>.allocate(capacity: count)
        for index in 0..<count { (storage + index).initialize(to: Atomic<UInt64>(0)) }
    }

    deinit {
        storage.deinitialize(count: count)
        storage.deallocate()
    }

    /// Adds `amount` to counter `index`; wraps at 2⁶⁴ like any Prometheus counter would reset.
    func add(_ amount: UInt64, at index: Int) {
        precondition(index >= 0 && index < count, "counter index out of range")
        storage[index].wrappingAdd(amount, ordering: .relaxed)
    }

    /// The current value of counter `index`.
    func value(at index: Int) -> UInt64 {
        precondition(index >= 0 && index < count, "counter index out of range")
        return storage[index].load(ordering: .relaxed)
    }
}
