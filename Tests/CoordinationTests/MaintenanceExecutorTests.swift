import Dispatch
import Foundation
import Synchronization
import Testing
@testable import Coordination

/// The reason `MaintenanceExecutor` exists: the ZooKeeper maintenance task must make progress
/// while every thread of Swift's cooperative pool is busy.
@Suite struct MaintenanceExecutorTests {
    final class Counters: Sendable {
        let blocking = Atomic<Int>(0)
        let timedOut = Atomic<Int>(0)
        let release = DispatchSemaphore(value: 0)
    }

    @Test func runsWhileTheCooperativePoolIsFullyBlocked() async throws {
        // One blocker per pool thread (the pool has one thread per core on Linux). Each blocks its
        // thread on a semaphore that only the task under test releases.
        let blockers = max(ProcessInfo.processInfo.activeProcessorCount, 1)
        let counters = Counters()
        var waits: [Task<Void, Never>] = []
        for _ in 0..<blockers {
            waits.append(Task.detached {
                counters.blocking.add(1, ordering: .sequentiallyConsistent)
                // Bounded, so a regression fails the test instead of hanging the runner.
                if counters.release.wait(timeout: .now() + .seconds(15)) == .timedOut {
                    counters.timedOut.add(1, ordering: .sequentiallyConsistent)
                }
            })
        }
        let maintenance = Task(executorPreference: MaintenanceExecutor(label: "test.maintenance")) {
            // Wait (on our own queue) until every blocker holds its thread, then free them all.
            for _ in 0..<1_500 where counters.blocking.load(ordering: .sequentiallyConsistent) < blockers {
                try? await Task.sleep(for: .milliseconds(10))
            }
            for _ in 0..<blockers { counters.release.signal() }
        }
        await maintenance.value
        for wait in waits { await wait.value }
        #expect(counters.blocking.load(ordering: .sequentiallyConsistent) == blockers)
        #expect(counters.timedOut.load(ordering: .sequentiallyConsistent) == 0,
                "the task on MaintenanceExecutor could not run while the cooperative pool was blocked")
    }
}
