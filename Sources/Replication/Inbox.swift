import SystemIO

/// A bounded multi-producer, single-consumer inbox that wakes the replication loop.
/// Producers (HTTP handlers, the transport thread) never block: when the inbox is full the item
/// is refused and the caller reports back-pressure (503) or drops (Raft tolerates lost messages).
final class Inbox<Item>: @unchecked Sendable {
    private let lock = ConditionMutex()
    private var items: [Item] = []
    private let capacity: Int
    private var woken = false
    /// Set before the loop starts when the loop waits elsewhere (`LoopWaiter`): posts and wakes
    /// call it instead of signalling the condition variable.
    var wakeHook: (@Sendable () -> Void)?

    init(capacity: Int) {
        precondition(capacity > 0, "inbox capacity must be positive")
        self.capacity = capacity
        items.reserveCapacity(min(capacity, 4096))
    }

    /// Adds an item; false when the inbox is full.
    @discardableResult
    func post(_ item: Item) -> Bool {
        let accepted = lock.withLock { () -> Bool in
            guard items.count < capacity else { return false }
            items.append(item)
            return true
        }
        if accepted { signalConsumer() }
        return accepted
    }

    private func signalConsumer() {
        if let wakeHook { wakeHook() } else { lock.signal() }
    }

    /// Whether a `drain` now would return something or was asked to return at once.
    var hasWork: Bool { lock.withLock { !items.isEmpty || woken } }

    /// Wakes the consumer without adding an item. The next `drain` returns at once even when
    /// it starts after this call (a finished background sync must not wait for a tick).
    func wake() {
        lock.withLock { woken = true }
        signalConsumer()
    }

    /// Takes everything queued, waiting until `deadlineNanoseconds` (monotonic) if empty;
    /// a deadline of 0 never waits.
    func drain(waitingUntil deadlineNanoseconds: UInt64, into batch: inout [Item]) {
        lock.lock()
        if items.isEmpty && !woken && deadlineNanoseconds > 0 { lock.wait(untilMonotonicNanoseconds: deadlineNanoseconds) }
        woken = false
        swap(&batch, &items)
        items.removeAll(keepingCapacity: true)
        lock.unlock()
    }
}
