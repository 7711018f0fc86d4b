import MOMCore
import Raft
import SystemIO
import Testing
@testable import Replication

/// A loop that waits in a `LoopWaiter` (as it waits in the transport's epoll in momd) must be
/// woken by everything that used to signal its inbox: posts from other threads and the
/// background sync's completions. The tick here is a minute, so anything that only a tick
/// would wake hangs until the 30 s `Outcome` bound and fails, instead of arriving late.
@Suite struct SharedLoopTests {
    /// Waits on a condition variable for at most the time asked, or until woken.
    final class FakeWaiter: LoopWaiter, @unchecked Sendable {
        private let lock = ConditionMutex()
        private var woken = false
        private var count = 0
        private var longest: UInt64 = 0

        func poll(waitMillisecondsMax: UInt64) {
            lock.lock()
            count += 1
            longest = max(longest, waitMillisecondsMax)
            if !woken && waitMillisecondsMax > 0 {
                lock.wait(untilMonotonicNanoseconds: SystemClock().monotonicNanoseconds() + waitMillisecondsMax * 1_000_000)
            }
            woken = false
            lock.unlock()
        }

        func wake() {
            lock.withLock { woken = true }
            lock.signal()
        }

        var polls: Int { lock.withLock { count } }
        var longestWait: UInt64 { lock.withLock { longest } }
    }

    @Test func postsAndFinishedSyncsEndTheWaitersPoll() async throws {
        let directory = try FileSystemCalls.makeTemporaryDirectory(prefix: "mom-sharedloop-")
        defer { try? FileSystemCalls.removeTree(directory) }
        var settings = ReplicationHost.Settings()
        settings.tickMilliseconds = 60_000
        settings.fileSystemSync = try PosixFileSystemSync(directory: directory)
        settings.asyncStorageWrites = true
        let host = ReplicationHost(nodeID: NodeID(1), link: LocalLinks().link(for: NodeID(1)), clock: SystemClock(), randomSeed: 1, settings: settings)
        let waiter = FakeWaiter()
        host.share(loopWith: waiter)
        host.start()
        let group = GroupID(1)
        let log = try SegmentGroupLog(directory: directory + "/g1", fileSystem: PosixFileSystem(), limits: .standard, clock: SystemClock())
        let added = Outcome<Bool>()
        host.addGroup(group, log: log, stateMachine: RecordingStateMachine(), bootstrap: Configuration(voters: [NodeID(1)])) {
            added.set((try? $0.get()) != nil)
        }
        let wasAdded = await added.wait() == true
        #expect(wasAdded)
        guard wasAdded, await eventually({ host.status(of: group)?.role == .leader }) else {
            Issue.record("the group never led")
            host.stop()
            return
        }
        // A lone voter commits only once its own sync finished: the proposal is a post from
        // this thread, its completion waits for the sync thread's wake.
        for k in 0..<20 {
            let done = Outcome<Bool>()
            host.propose(group, entries: [Array("entry \(k)".utf8)]) { done.set((try? $0.get()) != nil) }
            let committed = await done.wait() == true
            #expect(committed, "proposal \(k)")
            if !committed { break }
        }
        #expect(waiter.polls > 20 && waiter.longestWait > 1_000, "the loop waited in the waiter, up to the tick")
        let pollsBeforeStop = waiter.polls
        host.stop()
        #expect(waiter.polls > pollsBeforeStop, "stop ended the poll, and a last turn ran")
    }
}
