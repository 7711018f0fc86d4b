import Foundation
import MOMCore

extension MOMClient {
    /// Sends one logical call: authenticates, retries retryable failures with backoff within the
    /// policy's count and time budget, fails over between servers, and refreshes the token once
    /// on a 401. Returns only 2xx responses; anything else throws `MOMClientError`.
    func send(
        method: String, target: String, body: [UInt8] = [], authenticated: Bool = true,
        extraWaitMilliseconds: UInt64 = 0
    ) async throws -> HTTPResponseMessage {
        let policy = configuration.retry
        let started = clock.monotonicNanoseconds()
        let budgetNanoseconds = policy.totalMilliseconds.multipliedReportingOverflow(by: 1_000_000).partialValue
        var refreshedAfterUnauthorized = false
        var attempt = 0
        var lastError = MOMClientError.timeout("no attempt was made")
        while attempt < policy.attemptsMax {
            attempt += 1
            let serverIndex = state.preferredServer
            var headers: [(name: String, value: String)] = [("Accept", "application/json")]
            if !body.isEmpty { headers.append(("Content-Type", "application/json")) }
            if authenticated, let token = try await validToken() {
                headers.append(("Authorization", "Bearer \(token)"))
            }
            let request = HTTPRequestMessage(method: method, target: target, headers: headers, body: body)
            var retryAfterSeconds: UInt64?
            do {
                let response = try await exchange(request, on: servers[serverIndex], extraWaitMilliseconds: extraWaitMilliseconds)
                if (200..<300).contains(response.status) { return response }
                let error = Self.serverError(from: response)
                if response.status == 401 && authenticated && credentials != nil && !refreshedAfterUnauthorized {
                    // The token may have been revoked or the server's clock differs: log in once more.
                    refreshedAfterUnauthorized = true
                    state.forgetToken()
                    attempt -= 1
                    continue
                }
                guard error.isRetryable else { throw error }
                retryAfterSeconds = response.header("retry-after").flatMap { UInt64($0) }
                lastError = error
            } catch let error as MOMClientError {
                guard error.isRetryable else { throw error }
                lastError = error
            }
            state.failOver(from: serverIndex, serverCount: servers.count)
            guard attempt < policy.attemptsMax else { break }
            let backoff = policy.backoffMilliseconds(retry: attempt - 1, retryAfterSeconds: retryAfterSeconds, unit: state.unitRandom())
            let backoffNanoseconds = backoff.multipliedReportingOverflow(by: 1_000_000).partialValue
            let elapsed = clock.monotonicNanoseconds() &- started
            guard elapsed &+ backoffNanoseconds < budgetNanoseconds else { break }
            try await Task.sleep(nanoseconds: backoffNanoseconds)
        }
        throw lastError
    }

    /// One attempt on one server, off the cooperative thread pool (the socket calls block).
    private func exchange(
        _ request: HTTPRequestMessage, on server: ServerAddress, extraWaitMilliseconds: UInt64
    ) async throws -> HTTPResponseMessage {
        await pool.acquirePermit(for: server)
        defer { pool.releasePermit(for: server) }
        let deadline = Deadline(clock: clock, fromNowMilliseconds: configuration.requestTimeoutMilliseconds &+ extraWaitMilliseconds)
        let responseBytesMax = configuration.responseBytesMax
        let pool = self.pool
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { () throws(MOMClientError) -> HTTPResponseMessage in
                    try Self.blockingExchange(request, server: server, pool: pool, deadline: deadline, responseBytesMax: responseBytesMax)
                })
            }
        }
    }

    /// Uses an idle keep-alive connection when there is one. If a reused connection turns out
    /// to be closed by the server before it answered (an idle timeout race), the request goes
    /// once more on a fresh connection; that is not counted as a retry.
    private static func blockingExchange(
        _ request: HTTPRequestMessage, server: ServerAddress, pool: ConnectionPool,
        deadline: Deadline, responseBytesMax: Int
    ) throws(MOMClientError) -> HTTPResponseMessage {
        if let reused = pool.takeIdle(for: server) {
            do {
                let response = try reused.exchange(request, deadline: deadline, responseBytesMax: responseBytesMax)
                pool.giveBack(reused)
                return response
            } catch {
                reused.close()
                guard case .transport = error else { throw error }
            }
        }
        let fresh = try TCPConnection.connect(to: server, deadline: deadline)
        pool.noteOpened()
        let response = try fresh.exchange(request, deadline: deadline, responseBytesMax: responseBytesMax)
        pool.giveBack(fresh)
        return response
    }

    /// Turns a non-2xx response into `.server`, using the contract's error JSON when present.
    static func serverError(from response: HTTPResponseMessage) -> MOMClientError {
        if let envelope = try? JSONDecoder().decode(ErrorEnvelope.self, from: Data(response.body)) {
            return .server(status: response.status, code: envelope.error.code, message: envelope.error.message)
        }
        let text = String(decoding: response.body.prefix(200), as: UTF8.self)
        return .server(status: response.status, code: "http_\(response.status)",
                       message: text.isEmpty ? "no error body" : text)
    }
}
