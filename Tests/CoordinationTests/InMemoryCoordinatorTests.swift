import Testing
@testable import Coordination
import MOMCore
import Synchronization

/// Coordinators sharing one `InMemoryCoordinationStore`.
final class InMemoryCluster: CoordinationCluster {
    let store = InMemoryCoordinationStore()
    private let made = Mutex<[InMemoryCoordinator]>([])

    func makeCoordinator() async throws -> any Coordinator {
        let coordinator = InMemoryCoordinator(store: store)
        made.withLock { $0.append(coordinator) }
        return coordinator
    }

    func tearDown() async throws {
        for coordinator in made.withLock({ $0 }) { await coordinator.close() }
    }
}

@Suite struct InMemoryCoordinatorTests {
    @Test(arguments: ConformanceCase.allCases)
    func conformance(_ testCase: ConformanceCase) async throws {
        let cluster = InMemoryCluster()
        try await testCase.run(in: cluster)
        try await cluster.tearDown()
    }

    @Test func closingTheLastSessionEmptiesTheRegistry() async throws {
        let cluster = InMemoryCluster()
        let node = try await cluster.makeCoordinator()
        try await node.register(NodeID(1), at: registration(1))
        try await cluster.tearDown()
        let later = InMemoryCoordinator(store: cluster.store)
        #expect(try await later.liveNodes().isEmpty)
    }
}
