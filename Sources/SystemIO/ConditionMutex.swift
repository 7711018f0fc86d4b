import CEpoll
import Glibc

/// A mutex with a condition variable on CLOCK_MONOTONIC, for the few places where a thread
/// must sleep until another thread hands it work (the replication loop's inbox, sync workers).
/// Holders keep critical sections short; nothing here is reentrant.
public final class ConditionMutex: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    public init() {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        precondition(pthread_mutex_init(mutex, nil) == 0, "pthread_mutex_init")
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        precondition(pthread_cond_init(condition, &attributes) == 0, "pthread_cond_init")
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
        condition.deallocate()
    }

    /// Runs `body` with the mutex held.
    @inlinable
    public func withLock<R>(_ body: () throws -> R) rethrows -> R {
        lock()
        defer { unlock() }
        return try body()
    }

    public func lock() { precondition(pthread_mutex_lock(mutex) == 0, "pthread_mutex_lock") }
    public func unlock() { precondition(pthread_mutex_unlock(mutex) == 0, "pthread_mutex_unlock") }

    /// Wakes one waiter. Call with or without the mutex held.
    public func signal() { pthread_cond_signal(condition) }
    /// Wakes every waiter.
    public func broadcast() { pthread_cond_broadcast(condition) }

    /// Sleeps until signalled or until `deadlineNanoseconds` on CLOCK_MONOTONIC passes.
    /// Must be called with the mutex held; returns with it held. Spurious wake-ups happen:
    /// callers re-check their predicate.
    public func wait(untilMonotonicNanoseconds deadlineNanoseconds: UInt64) {
        var deadline = timespec()
        deadline.tv_sec = Int(deadlineNanoseconds / 1_000_000_000)
        deadline.tv_nsec = Int(deadlineNanoseconds % 1_000_000_000)
        _ = pthread_cond_timedwait(condition, mutex, &deadline)
    }
}

/// Starts a detached-from-Swift-concurrency OS thread running `body`. Event loops own a thread
/// each, so that blocking in epoll_wait or fdatasync never starves the cooperative pool.
public final class OSThread: @unchecked Sendable {
    private var handle = pthread_t()
    private let body: () -> Void

    private init(body: @escaping () -> Void) { self.body = body }

    /// Starts the thread. `name` (at most 15 bytes) shows in `top -H` and gdb.
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) -> OSThread {
        let thread = OSThread(body: body)
        let context = Unmanaged.passRetained(thread).toOpaque()
        let result = pthread_create(&thread.handle, nil, { raw in
            let thread = Unmanaged<OSThread>.fromOpaque(raw!).takeRetainedValue()
            thread.body()
            return nil
        }, context)
        precondition(result == 0, "pthread_create failed: \(result)")
        _ = pthread_setname_np(thread.handle, String(name.prefix(15)))
        return thread
    }

    /// Waits for the thread to finish.
    public func join() { pthread_join(handle, nil) }
}
