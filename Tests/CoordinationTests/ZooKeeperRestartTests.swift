import Foundation
import Testing
@testable import Coordination
import MOMCore

/// Stops a ZooKeeper for 10 s and starts it again. Uses its own instance (scripts/zookeeper on a
/// free port and a fresh directory), so the shared one stays up for the other tests.
@Suite(.enabled(if: ZooKeeperTestEnvironment.enabled, ZooKeeperTestEnvironment.skipReason))
struct ZooKeeperRestartTests {
    @Test func clientsRecoverFromARestartAndServeStaleReadsMeanwhile() async throws {
        let zookeeper = try await LocalZooKeeper.start()
        do {
            try await restartScenario(zookeeper)
        } catch {
            try? await zookeeper.destroy()
            throw error
        }
        try await zookeeper.destroy()
    }

    private func restartScenario(_ zookeeper: LocalZooKeeper) async throws {
        let cluster = ZooKeeperCluster(address: zookeeper.address)
        let first = try cluster.makeZooKeeperCoordinator()
        let second = try cluster.makeZooKeeperCoordinator()
        try await first.register(NodeID(1), at: registration(1))
        try await second.register(NodeID(2), at: registration(2))
        let both = [NodeID(1): registration(1), NodeID(2): registration(2)]
        let group = GroupID(1)
        let created = try await first.createMembership(ConformanceCase.three, for: group)
        let groupWatch = WatchRecorder(first.watchMembership(of: group))
        let nodeWatch = WatchRecorder(first.watchLiveNodes())
        #expect(await groupWatch.waitFor { $0 == created })
        #expect(await nodeWatch.waitFor { $0 == both })
        #expect(try await first.groups() == [group])

        let stoppedAt = ContinuousClock.now
        try await zookeeper.stop()
        #expect(await eventually { first.isStale && second.isStale })
        #expect(first.sessionState == .disconnected)

        // Reads are served from the last known state, writes are refused.
        #expect(try await first.liveNodes() == both)
        #expect(try await first.membership(of: group) == created)
        #expect(try await first.groups() == [group])
        await expectUnavailable { () async throws(CoordinationError) in
            try await first.compareAndSetMembership(ConformanceCase.three, for: group, expectedVersion: created.version)
        }
        // Nothing known about this group, so there is nothing stale to serve.
        await expectUnavailable { () async throws(CoordinationError) in try await second.membership(of: GroupID(99)) }
        #expect(first.isStale)

        try await Task.sleep(until: stoppedAt + .seconds(10))
        try await zookeeper.start()

        // No manual step: both reconnect (or re-create their sessions) and re-register.
        #expect(await eventually(timeoutSeconds: 30) {
            first.sessionState == .connected && second.sessionState == .connected
        })
        #expect(!first.isStale)
        #expect(await eventually { (try? await second.liveNodes()) == both })
        var next = ConformanceCase.three
        next.epoch = 2
        let updated = try await second.compareAndSetMembership(next, for: group, expectedVersion: created.version)
        #expect(await groupWatch.waitFor { $0 == updated })
        try await cluster.tearDown()
    }
}
