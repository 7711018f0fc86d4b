import Foundation
import MOMCore

/// Keep-alive connections per server, bounded twice: at most `connectionsPerServerMax` in use
/// at once (further requests wait for a permit), and at most `idleConnectionsPerServerMax` kept
/// open between requests. Why: a client must not open unbounded sockets under load.
final class ConnectionPool: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [ServerAddress: [TCPConnection]] = [:]
    private var inUse: [ServerAddress: Int] = [:]
    private var waiters: [ServerAddress: [CheckedContinuation<Void, Never>]] = [:]
    private let connectionsPerServerMax: Int
    private let idleConnectionsPerServerMax: Int
    /// Connections opened since creation; tests use it to see keep-alive reuse.
    private(set) var connectionsOpened = 0

    init(connectionsPerServerMax: Int, idleConnectionsPerServerMax: Int) {
        precondition(connectionsPerServerMax > 0 && idleConnectionsPerServerMax >= 0)
        self.connectionsPerServerMax = connectionsPerServerMax
        self.idleConnectionsPerServerMax = min(idleConnectionsPerServerMax, connectionsPerServerMax)
    }

    /// Waits for a permit to use one connection to `server`.
    func acquirePermit(for server: ServerAddress) async {
        let granted: Bool = lock.withLock {
            let used = inUse[server, default: 0]
            if used < connectionsPerServerMax { inUse[server] = used + 1; return true }
            return false
        }
        if granted { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let grantedNow: Bool = lock.withLock {
                let used = inUse[server, default: 0]
                if used < connectionsPerServerMax { inUse[server] = used + 1; return true }
                waiters[server, default: []].append(continuation)
                return false
            }
            if grantedNow { continuation.resume() }
        }
    }

    /// Returns the permit; hands it straight to the oldest waiter if there is one.
    func releasePermit(for server: ServerAddress) {
        let next: CheckedContinuation<Void, Never>? = lock.withLock {
            if var queue = waiters[server], !queue.isEmpty {
                let first = queue.removeFirst()
                waiters[server] = queue
                return first  // the permit passes over; inUse stays the same
            }
            inUse[server, default: 1] -= 1
            return nil
        }
        next?.resume()
    }

    /// A healthy idle connection, or nil if the caller must open a new one.
    func takeIdle(for server: ServerAddress) -> TCPConnection? {
        while let connection = lock.withLock({ idle[server]?.popLast() }) {
            if connection.looksIdleAndHealthy { return connection }
            connection.close()
        }
        return nil
    }

    func noteOpened() { lock.withLock { connectionsOpened += 1 } }

    /// Keeps a connection for reuse if it is still open and there is room; else closes it.
    func giveBack(_ connection: TCPConnection) {
        guard connection.isOpen else { return }
        let kept: Bool = lock.withLock {
            guard idle[connection.address, default: []].count < idleConnectionsPerServerMax else { return false }
            idle[connection.address, default: []].append(connection)
            return true
        }
        if !kept { connection.close() }
    }

    /// Closes every idle connection (in-use ones close when their request finishes).
    func closeIdle() {
        let all: [TCPConnection] = lock.withLock {
            defer { idle = [:] }
            return idle.values.flatMap { $0 }
        }
        for connection in all { connection.close() }
    }
}

/// The real monotonic clock (CLOCK_MONOTONIC), the default for deadlines and retry budgets.
struct MonotonicClock: Clock {
    func monotonicNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    func wallMilliseconds() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000 + Int64(time.tv_nsec) / 1_000_000
    }
}
