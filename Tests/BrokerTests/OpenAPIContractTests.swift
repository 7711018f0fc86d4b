import Coordination
import Foundation
import Glibc
import HTTPServer
import MOMCore
import Testing
@testable import Broker

/// The REST contract, the router and the guide agree: `docs/openapi.yaml` (read by
/// `scripts/check-openapi`, which also lints it) lists exactly the routes the router serves,
/// docs/api.md names each of them, and every JSON request
/// example in the spec is accepted by the real handler — it may be refused for what it asks
/// (404, 409, 503), never as malformed (400).
@Suite struct OpenAPIContractTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().path

    /// Routes the router serves that are deliberately outside the REST contract: the web
    /// console's static files.
    static func isOutsideContract(_ pattern: String) -> Bool {
        pattern == "/ui" || pattern.hasPrefix("/ui/")
    }

    /// Runs `scripts/check-openapi` with `arguments` and returns its stdout lines; nil (with the
    /// reason recorded) if it cannot run or fails.
    static func checkOpenAPI(_ arguments: [String]) async -> [String]? {
        let script = "\(repositoryRoot)/scripts/check-openapi"
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("mom-openapi-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).txt").path
        defer { unlink(output) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv = (["/usr/bin/python3", script] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var child = pid_t()
        guard posix_spawn(&child, "/usr/bin/python3", &actions, nil, argv, environ) == 0 else {
            Issue.record("cannot start python3 \(script)")
            return nil
        }
        var status: Int32 = 0
        for _ in 0..<1_500 where waitpid(child, &status, WNOHANG) == 0 {
            try? await Task.sleep(for: .milliseconds(20))
        }
        guard waitpid(child, &status, WNOHANG) == -1 || status == 0, (status >> 8) & 0xff == 0 else {
            Issue.record("scripts/check-openapi \(arguments) failed with wait status \(status); run it for details")
            return nil
        }
        guard let text = try? String(contentsOfFile: output, encoding: .utf8) else { return nil }
        return text.split(separator: "\n").map(String.init)
    }

    @Test func theRouterServesExactlyTheSpecRoutes() async throws {
        let (node, router) = try await SingleNodeTests.startNode()
        defer { Task { await node.stop() } }
        let served = Set(router.routes.filter { !Self.isOutsideContract($0.pattern) }.map { "\($0.method.rawValue) \($0.pattern)" })
        let specified = Set(try #require(await Self.checkOpenAPI([])))
        #expect(served.subtracting(specified).sorted() == [], "served but not in docs/openapi.yaml")
        #expect(specified.subtracting(served).sorted() == [], "in docs/openapi.yaml but not served")
    }

    /// docs/api.md is the readable guide to the same contract: it names every spec route as
    /// "METHOD path", so a route cannot be added to the spec (and router) without its guide entry.
    @Test func theGuideNamesEveryRoute() async throws {
        let specified = try #require(await Self.checkOpenAPI([]))
        let guide = try String(contentsOfFile: "\(Self.repositoryRoot)/docs/api.md", encoding: .utf8)
        #expect(specified.count >= 20)
        #expect(specified.filter { !guide.contains($0) } == [], "routes in docs/openapi.yaml that docs/api.md does not name")
    }

    @Test func everyRequestExampleParses() async throws {
        // Two more live nodes, so examples asking for three replicas are placeable; their groups
        // never elect here (those nodes do not run), which the handlers answer with 503.
        let store = InMemoryCoordinationStore()
        let others = [InMemoryCoordinator(store: store), InMemoryCoordinator(store: store)]
        for (index, other) in others.enumerated() {
            try await other.register(NodeID(UInt64(index + 2)), at: NodeRegistration(http: "127.0.0.1:1", raft: "127.0.0.1:1"))
        }
        let (node, router) = try await SingleNodeTests.startNode(coordinator: InMemoryCoordinator(store: store))
        #expect(await SingleNodeTests.waitForMeta(node))
        let examples = try #require(await Self.checkOpenAPI(["--examples"]))
        #expect(examples.count >= 10, "the spec has request examples: \(examples)")
        let names = ["{t}": "orders", "{q}": "jobs", "{x}": "events", "{s}": "billing", "{p}": "0", "{id}": "1"]
        for line in examples {
            let fields = line.split(separator: " ", maxSplits: 2).map(String.init)
            try #require(fields.count == 3, "malformed line from check-openapi: \(line)")
            let method = try #require(HTTPMethod(rawValue: fields[0]))
            let target = names.reduce(fields[1]) { $0.replacingOccurrences(of: $1.key, with: $1.value) }
            let (status, body) = await SingleNodeTests.call(router, method, target, fields[2])
            #expect(status != 400 && status < 500 || status == 503,
                    "\(method.rawValue) \(target) refused its spec example with \(status): \(String(describing: body))")
        }
        await node.stop()
        withExtendedLifetime(others) {}
    }
}
