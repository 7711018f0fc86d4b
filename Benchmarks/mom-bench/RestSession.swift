import Glibc
import HTTPServer
import MOMCore
import SystemIO

/// Why a network workload stopped.
struct BenchNetworkError: Error, CustomStringConvertible {
    let description: String
}

/// Where the network workloads send their requests, and with which credentials. Sendable so
/// that each worker thread can make its own blocking `HTTPClient` from it.
struct RestEndpoints: Sendable {
    let addresses: [SocketAddress]
    let headers: HTTPHeaders

    /// Parses `--servers`; refuses anything outside 127.0.0.0/8 (benchmarks stay on loopback).
    init(options: BenchOptions) throws {
        var addresses: [SocketAddress] = []
        for server in options.servers {
            guard let address = SocketAddress(parsing: server) else { throw BenchNetworkError(description: "bad --servers entry '\(server)' (want host:port)") }
            guard address.isLoopback else { throw BenchNetworkError(description: "\(server) is not on 127.0.0.0/8; mom-bench only talks to loopback") }
            addresses.append(address)
        }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        if let token = options.token { headers.add(name: "Authorization", value: "Bearer \(token)") }
        self.addresses = addresses
        self.headers = headers
    }

    /// A session for worker `index`: workers spread over the servers round-robin.
    func session(index: Int, timeoutMilliseconds: UInt64 = 30_000) throws -> RestSession {
        try RestSession(address: addresses[index % addresses.count], headers: headers, timeoutMilliseconds: timeoutMilliseconds)
    }
}

/// One keep-alive connection used by one thread, with MOM's retry rule: a 503 (no leader yet,
/// overloaded) is retried with bounded exponential backoff; anything else goes to the caller.
final class RestSession {
    let client: HTTPClient
    let headers: HTTPHeaders
    /// The same headers with a binary batch body and answer (`--format binary`).
    let binaryHeaders: HTTPHeaders
    /// 503 retries per request; with backoff capped at 500 ms that is at most about 15 s.
    static let unavailableRetriesMax = 40

    init(address: SocketAddress, headers: HTTPHeaders, timeoutMilliseconds: UInt64) throws {
        client = try HTTPClient(address: address, timeoutMilliseconds: timeoutMilliseconds)
        self.headers = headers
        var binaryHeaders = headers
        binaryHeaders.set(name: "Content-Type", value: RecordBatchFormat.mediaType)
        binaryHeaders.set(name: "Accept", value: RecordBatchFormat.mediaType)
        self.binaryHeaders = binaryHeaders
    }

    var address: SocketAddress { client.address }

    /// Sends one request, retrying 503s; throws on transport errors.
    func send(_ method: HTTPMethod, _ target: String, body: [UInt8] = [], binary: Bool = false) throws -> HTTPResponse {
        var backoffMilliseconds = 10
        for _ in 0..<Self.unavailableRetriesMax {
            let response = try client.send(method, target, body: body, headers: binary ? binaryHeaders : headers)
            guard response.status.code == 503 else { return response }
            usleep(UInt32(backoffMilliseconds * 1000))
            backoffMilliseconds = min(backoffMilliseconds * 2, 500)
        }
        throw BenchNetworkError(description: "\(method.rawValue) \(target): still 503 after \(Self.unavailableRetriesMax) retries")
    }

    /// Sends and requires `expected` status; the error carries the server's body.
    func send(_ method: HTTPMethod, _ target: String, body: [UInt8] = [], binary: Bool = false, expecting expected: Set<Int>) throws -> HTTPResponse {
        let response = try send(method, target, body: body, binary: binary)
        guard expected.contains(response.status.code) else {
            let text = String(decoding: response.body.prefix(300), as: UTF8.self)
            throw BenchNetworkError(description: "\(method.rawValue) \(target) → \(response.status.code): \(text)")
        }
        return response
    }

    /// The node id this connection's server reports on `/healthz`.
    func nodeID() throws -> Int {
        let response = try send(.get, "/healthz", expecting: [200])
        return Int(try JSONValue(parsing: response.body)["node_id"]?.int64Value ?? -1)
    }
}

/// The topic the workload uses, as the cluster describes it.
struct TopicState {
    /// Leader node id per partition (-1 when none).
    var leaders: [Int]
    var highWatermarks: [UInt64]
    var logStartOffsets: [UInt64] = []

    /// Creates the topic when missing (409 means it exists), then waits, bounded, until every
    /// partition has a leader.
    static func ensure(_ session: RestSession, options: BenchOptions) throws -> TopicState {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("name")
        writer.string(options.topic)
        writer.key("partitions")
        writer.integer(options.partitions)
        writer.key("replication_factor")
        writer.integer(options.replicationFactor)
        writer.endObject()
        _ = try session.send(.post, "/v1/topics", body: writer.bytes, expecting: [201, 409])
        for _ in 0..<100 {
            let state = try describe(session, topic: options.topic)
            if !state.leaders.contains(-1) { return state }
            usleep(100_000)
        }
        throw BenchNetworkError(description: "topic '\(options.topic)' has partitions without a leader after 10 s")
    }

    static func describe(_ session: RestSession, topic: String) throws -> TopicState {
        let response = try session.send(.get, "/v1/topics/\(topic)", expecting: [200])
        let document = try JSONValue(parsing: response.body)
        var state = TopicState(leaders: [], highWatermarks: [])
        for partition in document["partitions"]?.arrayValue ?? [] {
            state.leaders.append(Int(partition["leader"]?.int64Value ?? -1))
            state.highWatermarks.append(partition["high_watermark"]?.uint64Value ?? 0)
            state.logStartOffsets.append(partition["log_start_offset"]?.uint64Value ?? 0)
        }
        guard !state.leaders.isEmpty else { throw BenchNetworkError(description: "topic '\(topic)' has no partitions in \(String(decoding: response.body.prefix(200), as: UTF8.self))") }
        return state
    }

    var leadersText: String { leaders.map(String.init).joined(separator: ",") }
}

extension BenchReport {
    /// Where the client talked and where the leaders were: a NATS R3 comparison depends on it.
    mutating func setPlacement(clientNode: Int, server: SocketAddress, topic: TopicState) {
        set("client_node", clientNode)
        set("server", server.description)
        set("leaders", topic.leadersText)
    }
}
