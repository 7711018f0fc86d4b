import Dispatch
import Foundation
import HTTPServer
import SystemIO

/// One HTTP answer: status, raw body and the body parsed as JSON when it is JSON.
struct Reply: Sendable {
    let status: Int
    let body: [UInt8]
    let json: JSONValue?

    var text: String { String(decoding: body.prefix(2_000), as: UTF8.self) }
    var errorCode: String? { json?["error"]?["code"]?.stringValue }
}

/// A blocking `HTTPClient` to one node, used from async tests: each exchange runs on the
/// client's own serial Dispatch queue, one at a time, under the client's own timeout.
///
/// Why a serial queue of its own: a serial queue is overcommitting (it always gets a thread),
/// whereas blocking work on a global or concurrent queue takes one of the few (≈ CPU count)
/// shared worker threads — on a 2-core machine that stalls every other suite's Dispatch work
/// and async tasks while a request waits on a slow cluster.
final class NodeClient: @unchecked Sendable {
    let port: UInt16
    private let lock = NSLock()
    private let client: HTTPClient
    private let queue: DispatchQueue

    init(port: UInt16, timeoutMilliseconds: UInt64) throws {
        self.port = port
        client = try HTTPClient(address: .loopback(port: port), timeoutMilliseconds: timeoutMilliseconds)
        queue = DispatchQueue(label: "mom-it-http-\(port)")
    }

    /// Sends a request; a transport failure (refused, timed out, closed) throws `HTTPClientError`.
    func send(_ method: HTTPMethod, _ target: String, json: JSONValue? = nil) async throws -> Reply {
        let headers = json == nil ? HTTPHeaders() : HTTPHeaders([("Content-Type", "application/json")])
        let body = json?.serialized() ?? []
        let result: Result<HTTPResponse, HTTPClientError> = await withCheckedContinuation { continuation in
            self.queue.async {
                let outcome = self.lock.withLock { () -> Result<HTTPResponse, HTTPClientError> in
                    do throws(HTTPClientError) {
                        return .success(try self.client.send(method, target, body: body, headers: headers))
                    } catch {
                        self.client.close()
                        return .failure(error)
                    }
                }
                continuation.resume(returning: outcome)
            }
        }
        let response = try result.get()
        return Reply(status: response.status.code, body: response.body, json: try? JSONValue(parsing: response.body))
    }

    /// Drops the connection (after the node was killed, so the next request reconnects).
    func disconnect() {
        lock.withLock { client.close() }
    }
}
