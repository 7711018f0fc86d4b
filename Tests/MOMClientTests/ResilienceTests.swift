import Foundation
import MOMCore
import Testing
@testable import MOMClient

/// Keep-alive, retries, failover, token refresh and error decoding against the fake server.
@Suite struct ResilienceTests {
    @Test func keepAliveReusesOneConnection() async throws {
        let server = try FakeServer()
        defer { server.stop() }
        server.script("GET /v1/topics", [.json(200, #"{"topics":["a","b"]}"#)])
        let client = try makeClient([server.address])
        for _ in 0..<5 {
            #expect(try await client.listTopics() == ["a", "b"])
        }
        #expect(client.connectionsOpened == 1)
        #expect(server.connectionsAccepted == 1)
        #expect(Set(server.requests.map(\.connection)) == [0])
        #expect(server.requests.count == 6)  // login + 5 lists
    }

    @Test func retriesA503ThenSucceeds() async throws {
        let server = try FakeServer()
        defer { server.stop() }
        server.script("GET /v1/topics", [
            .error(503, code: "no_leader", message: "retry", headers: [("Retry-After", "0")]),
            .error(503, code: "no_leader", message: "retry"),
            .json(200, #"{"topics":["x"]}"#),
        ])
        let client = try makeClient([server.address])
        #expect(try await client.listTopics() == ["x"])
        #expect(server.requests("GET /v1/topics").count == 3)
    }

    @Test func boundedRetriesGiveUpWithTheLastError() async throws {
        let server = try FakeServer()
        defer { server.stop() }
        server.script("GET /v1/topics", [
            .error(503, code: "no_leader", message: "first"),
            .error(503, code: "overloaded", message: "last"),
        ])
        let client = try makeClient([server.address], attemptsMax: 3)
        await #expect(throws: MOMClientError.server(status: 503, code: "overloaded", message: "last")) {
            _ = try await client.listTopics()
        }
        #expect(server.requests("GET /v1/topics").count == 3)
    }

    @Test func retryTimeBudgetStopsBeforeTheCount() async throws {
        let server = try FakeServer()
        defer { server.stop() }
        server.script("GET /v1/topics", [.error(503, code: "no_leader", message: "down")])
        var configuration = testConfiguration(attemptsMax: 100)
        // Every backoff (>= 50 ms) is longer than the whole 10 ms budget: exactly one attempt.
        configuration.retry = RetryPolicy(attemptsMax: 100, totalMilliseconds: 10, backoffInitialMilliseconds: 100, backoffMillisecondsMax: 100)
        let client = try MOMClient(servers: [server.address], credentials: nil, configuration: configuration)
        await #expect(throws: MOMClientError.self) { _ = try await client.listTopics() }
        #expect(server.requests("GET /v1/topics").count == 1)
    }

    @Test func failsOverWhenTheFirstServerRefuses() async throws {
        let refusing = try RefusingPort()
        let server = try FakeServer()
        defer { server.stop() }
        server.script("GET /v1/topics", [.json(200, #"{"topics":[]}"#)])
        let client = try makeClient([refusing.address, server.address])
        #expect(try await client.listTopics() == [])
        #expect(server.requests("GET /v1/topics").count == 1)
        // The client now prefers the working server: the next call goes straight there.
        #expect(try await client.listTopics() == [])
        #expect(server.requests("GET /v1/topics").count == 2)
    }

    @Test func connectionRefusedEverywhereIsATransportError() async throws {
        let refusing = try RefusingPort()
        let client = try makeClient([refusing.address], credentials: nil, attemptsMax: 2)
        do {
            _ = try await client.listTopics()
            Issue.record("expected a transport error")
        } catch let error as MOMClientError {
            guard case .transport(let detail) = error else { Issue.record("got \(error)"); return }
            #expect(detail.contains(refusing.address))
        }
    }

    @Test func refreshesTheTokenOnceOn401() async throws {
        let server = try FakeServer()
        defer { server.stop() }
        server.script("POST /v1/auth/token", [
            .json(200, #"{"token":"token-1","expires_in":3600}"#),
            .json(200, #"{"token":"token-2","expires_in":3600}"#),
        ])
        server.script("GET /v1/topics", [
            .error(401, code: "unauthorized", message: "token revoked"),
            .json(200, #"{"topics":["t"]}"#),
        ])
        let client = try makeClient([server.address])
        #expect(try await client.listTopics() == ["t"])
        let lists = server.requests("GET /v1/topics")
        #expect(lists.map { $0.headers["authorization"] } == ["Bearer token-1", "Bearer token-2"])
        #expect(server.requests("POST /v1/auth/token").count == 2)
    }

    @Test func aSecond401IsReportedNotLooped() async throws {
        let server = try FakeServer()
        defer { server.stop() }
        server.script("GET /v1/topics", [.error(401, code: "unauthorized", message: "no")])
        let client = try makeClient([server.address])
        await #expect(throws: MOMClientError.server(status: 401, code: "unauthorized", message: "no")) {
            _ = try await client.listTopics()
        }
        #expect(server.requests("GET /v1/topics").count == 2)
        #expect(server.requests("POST /v1/auth/token").count == 2)
    }

    @Test func refreshesTheTokenBeforeItExpires() async throws {
        let server = try FakeServer()
        defer { server.stop() }
        server.script("POST /v1/auth/token", [
            .json(200, #"{"token":"token-1","expires_in":60}"#),
            .json(200, #"{"token":"token-2","expires_in":60}"#),
        ])
        server.script("GET /v1/topics", [.json(200, #"{"topics":[]}"#)])
        let clock = ManualClock(startNanoseconds: 1_000_000_000)
        var configuration = testConfiguration()
        configuration.tokenRefreshMarginMilliseconds = 10_000
        let client = try MOMClient(
            addresses: [try ServerAddress(parsing: server.address)],
            credentials: Credentials(username: "u", password: "p"), configuration: configuration, clock: clock)
        _ = try await client.listTopics()
        clock.advance(byMilliseconds: 40_000)  // 20 s left: more than the margin, keep the token
        _ = try await client.listTopics()
        clock.advance(byMilliseconds: 15_000)  // 5 s left: inside the margin, refresh first
        _ = try await client.listTopics()
        let tokens = server.requests("GET /v1/topics").map { $0.headers["authorization"] }
        #expect(tokens == ["Bearer token-1", "Bearer token-1", "Bearer token-2"])
    }

    @Test func decodesErrorJSONAndDoesNotRetry4xx() async throws {
        let server = try FakeServer()
        defer { server.stop() }
        server.script("GET /v1/topics/x", [.error(404, code: "not_found", message: "topic 'x' does not exist")])
        server.script("DELETE /v1/topics/y", [.json(500, "boom")])
        let client = try makeClient([server.address])
        await #expect(throws: MOMClientError.server(status: 404, code: "not_found", message: "topic 'x' does not exist")) {
            _ = try await client.topic("x")
        }
        #expect(server.requests("GET /v1/topics/x").count == 1)
        await #expect(throws: MOMClientError.server(status: 500, code: "http_500", message: "boom")) {
            try await client.deleteTopic("y")
        }
        #expect(server.requests("DELETE /v1/topics/y").count == 1)
    }

    @Test func malformedSuccessBodyIsADecodingError() async throws {
        let server = try FakeServer()
        defer { server.stop() }
        server.script("GET /v1/topics", [.json(200, #"{"topicz":1}"#)])
        let client = try makeClient([server.address], credentials: nil)
        do {
            _ = try await client.listTopics()
            Issue.record("expected a decoding error")
        } catch let error as MOMClientError {
            guard case .decoding = error else { Issue.record("got \(error)"); return }
        }
    }

    @Test func serverClosingAfterEachResponseStillWorks() async throws {
        let server = try FakeServer()
        defer { server.stop() }
        server.script("GET /v1/topics", [.json(200, #"{"topics":[]}"#, headers: [("Connection", "close")])])
        let client = try makeClient([server.address], credentials: nil)
        for _ in 0..<3 { _ = try await client.listTopics() }
        #expect(client.connectionsOpened == 3)
        #expect(server.connectionsAccepted == 3)
    }
}
