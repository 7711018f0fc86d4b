import Foundation
import Synchronization
import Testing
@testable import Coordination
import MOMCore

/// A set of coordinators sharing one store: one simulated cluster per test.
protocol CoordinationCluster: Sendable {
    /// A new coordinator (a new session) on the shared store.
    func makeCoordinator() async throws -> any Coordinator
    /// Closes every coordinator made, checks what the store holds, and removes it.
    func tearDown() async throws
}

/// Polls `condition` every 20 ms until it holds or `timeoutSeconds` pass. Returns whether it held.
/// Tests assert on the result; the bound only keeps a broken build from hanging.
func eventually(
    timeoutSeconds: Double = 20, _ condition: @Sendable () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(timeoutSeconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// Consumes a watch stream in the background and keeps every snapshot it yields, so tests can
/// wait for "some snapshot satisfying P" without racing the stream.
final class WatchRecorder<Snapshot: Sendable>: Sendable {
    private final class Storage: Sendable {
        let snapshots = Mutex<[Snapshot]>([])
    }

    private let storage = Storage()
    private let task: Task<Void, Never>

    init(_ stream: AsyncStream<Snapshot>) {
        let storage = self.storage
        task = Task {
            for await snapshot in stream {
                storage.snapshots.withLock { $0.append(snapshot) }
            }
        }
    }

    var all: [Snapshot] { storage.snapshots.withLock { $0 } }
    var latest: Snapshot? { all.last }

    /// Waits until a snapshot recorded after the first `skipping` satisfies `predicate`.
    func waitFor(skipping: Int = 0, timeoutSeconds: Double = 20, _ predicate: @escaping @Sendable (Snapshot) -> Bool) async -> Bool {
        await eventually(timeoutSeconds: timeoutSeconds) { self.all.dropFirst(skipping).contains(where: predicate) }
    }

    func cancel() { task.cancel() }
    deinit { task.cancel() }
}

/// A registration with distinct, recognizable addresses for node `id`.
func registration(_ id: UInt64) -> NodeRegistration {
    NodeRegistration(http: "127.0.0.1:\(18_000 + id)", raft: "127.0.0.1:\(19_000 + id)")
}

/// Expects `body` to throw exactly `expected`.
func expectError<T>(
    _ expected: CoordinationError, sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws(CoordinationError) -> T
) async {
    do {
        _ = try await body()
        Issue.record("expected \(expected), got success", sourceLocation: sourceLocation)
    } catch {
        #expect(error == expected, sourceLocation: sourceLocation)
    }
}

/// Expects `body` to throw `CoordinationError.unavailable`.
func expectUnavailable<T>(
    sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws(CoordinationError) -> T
) async {
    do {
        _ = try await body()
        Issue.record("expected unavailable, got success", sourceLocation: sourceLocation)
    } catch {
        guard case .unavailable = error else {
            Issue.record("expected unavailable, got \(error)", sourceLocation: sourceLocation)
            return
        }
    }
}
