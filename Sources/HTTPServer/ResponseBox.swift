import MOMCore
import SystemIO

/// A one-shot slot a thread can wait on until another thread fills it (in-process routing and
/// the blocking client pool's callers).
final class ResponseBox: @unchecked Sendable {
    // Guarded by `lock`.
    private var response: HTTPResponse?
    private let lock = ConditionMutex()

    func put(_ value: HTTPResponse) {
        lock.withLock {
            if response == nil { response = value }
        }
        lock.broadcast()
    }

    /// The response, waiting up to `timeoutMilliseconds` for it.
    func wait(timeoutMilliseconds: UInt64) -> HTTPResponse? {
        let deadline = SystemClock().monotonicNanoseconds() + timeoutMilliseconds * 1_000_000
        return lock.withLock {
            while response == nil && SystemClock().monotonicNanoseconds() < deadline {
                lock.wait(untilMonotonicNanoseconds: deadline)
            }
            return response
        }
    }
}
