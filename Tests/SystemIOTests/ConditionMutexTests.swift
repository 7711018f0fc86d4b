import Testing
@testable import SystemIO

@Suite struct ConditionMutexTests {
    /// A producer thread hands values to a consumer through the condition; nothing is lost.
    @Test func handsWorkAcrossThreads() {
        final class Box: @unchecked Sendable { var items: [Int] = []; var done = false }
        let box = Box()
        let lock = ConditionMutex()
        let producer = OSThread.start(name: "test-producer") {
            for i in 0..<1000 {
                lock.withLock { box.items.append(i) }
                lock.signal()
            }
            lock.withLock { box.done = true }
            lock.signal()
        }
        var received: [Int] = []
        let clock = SystemClock()
        let deadline = clock.monotonicNanoseconds() + 10_000_000_000
        lock.lock()
        while !(box.done && box.items.isEmpty) && clock.monotonicNanoseconds() < deadline {
            if box.items.isEmpty {
                lock.wait(untilMonotonicNanoseconds: clock.monotonicNanoseconds() + 100_000_000)
            }
            received += box.items
            box.items.removeAll()
        }
        lock.unlock()
        producer.join()
        #expect(received == Array(0..<1000))
    }
}
