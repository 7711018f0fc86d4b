/// The open watch streams of one coordinator for one kind of snapshot, keyed (per group, or a
/// single key for the node list). Not thread-safe: the owner keeps it inside its lock.
///
/// Each watcher remembers whether and what it last received, so a publish of an unchanged
/// snapshot is not yielded again. Streams buffer newest-only, so a publish never blocks and never
/// grows a queue.
struct WatchRegistry<Key: Hashable & Sendable, Snapshot: Equatable & Sendable> {
    typealias Continuation = AsyncStream<Snapshot>.Continuation

    private struct Watcher {
        let continuation: Continuation
        var lastYielded: Snapshot?
        var hasYielded: Bool
    }

    private var watchers: [Key: [UInt64: Watcher]] = [:]
    private var nextIdentifier: UInt64 = 0
    private(set) var count = 0

    /// The keys someone is watching; a store re-arms exactly these after a new session.
    var keys: [Key] { Array(watchers.keys) }

    /// Whether anyone watches `key`.
    func contains(_ key: Key) -> Bool { watchers[key] != nil }

    /// Adds a watcher; the caller sets `onTermination` to call `remove` with the identifier.
    mutating func add(_ continuation: Continuation, for key: Key) -> UInt64 {
        nextIdentifier += 1
        watchers[key, default: [:]][nextIdentifier] = Watcher(
            continuation: continuation, lastYielded: nil, hasYielded: false)
        count += 1
        return nextIdentifier
    }

    /// Forgets a watcher whose stream ended. Returns true when `key` has no watchers left.
    @discardableResult
    mutating func remove(_ identifier: UInt64, for key: Key) -> Bool {
        guard watchers[key]?.removeValue(forKey: identifier) != nil else { return false }
        count -= 1
        if watchers[key]?.isEmpty == true {
            watchers[key] = nil
            return true
        }
        return false
    }

    /// Yields `snapshot` to every watcher of `key` that has not seen exactly it last.
    /// Yielding is non-blocking, so it is safe under the owner's lock and keeps publish order.
    mutating func publish(_ snapshot: Snapshot, for key: Key) {
        guard var group = watchers[key] else { return }
        for (identifier, var watcher) in group where !(watcher.hasYielded && watcher.lastYielded == snapshot) {
            watcher.continuation.yield(snapshot)
            watcher.lastYielded = snapshot
            watcher.hasYielded = true
            group[identifier] = watcher
        }
        watchers[key] = group
    }

    /// Empties the registry and hands back the continuations; the caller finishes them after
    /// leaving its lock, because `finish()` runs `onTermination`, which takes that lock.
    mutating func removeAll() -> [Continuation] {
        let continuations = watchers.values.flatMap { $0.values.map(\.continuation) }
        watchers = [:]
        count = 0
        return continuations
    }
}
