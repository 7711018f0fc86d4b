import HTTPServer
import SystemIO

/// One chaos worker's HTTP connection, which moves to the next node after a failure (so a
/// killed or partitioned node costs a worker one request, not the run). No retries inside:
/// every attempt is one history operation.
final class ChaosClient {
    private let servers: [SocketAddress]
    private let headers: HTTPHeaders
    private let timeoutMilliseconds: UInt64
    private var serverIndex: Int
    private var client: HTTPClient?

    init(servers: [SocketAddress], first: Int, headers: HTTPHeaders, timeoutMilliseconds: UInt64) {
        self.servers = servers
        self.serverIndex = first % servers.count
        self.headers = headers
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// The 1-based node number of the current server (nodes are listed in id order).
    var node: Int { serverIndex + 1 }

    /// Sends one request; a transport error closes the connection and throws.
    func send(_ method: HTTPMethod, _ target: String, body: [UInt8] = []) throws -> HTTPResponse {
        if client == nil { client = try HTTPClient(address: servers[serverIndex], timeoutMilliseconds: timeoutMilliseconds) }
        do {
            return try client!.send(method, target, body: body, headers: headers)
        } catch {
            client?.close()
            client = nil
            throw error
        }
    }

    /// Moves to the next node.
    func rotate() {
        client?.close()
        client = nil
        serverIndex = (serverIndex + 1) % servers.count
    }
}

/// How an HTTP answer ends a history operation: 2xx took effect; a 4xx other than 408/429 was
/// refused before anything was proposed (definite failure); anything else, a 503 included
/// (`outcome_unknown`, a forward that failed after sending), is unknown.
enum ChaosOutcome {
    static func classify(status: Int) -> HistoryEventTypeName {
        switch status {
        case 200..<300: return .ok
        case 408, 429: return .info
        case 400..<500: return .fail
        default: return .info
        }
    }

    /// The error code and a short message from an error body, for the history.
    static func errorText(_ response: HTTPResponse) -> String {
        let body = String(decoding: response.body.prefix(160), as: UTF8.self)
        return "\(response.status.code) \(body)"
    }
}

/// The completion types a classification yields.
enum HistoryEventTypeName {
    case ok, fail, info
}
