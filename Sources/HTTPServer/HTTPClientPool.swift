import MOMCore
import SystemIO

/// Sends requests without blocking the caller: a bounded queue served by a few dedicated
/// threads, each with its own blocking `HTTPClient`s kept alive per destination.
///
/// Why threads and not the server's epoll loop: forwarding to a partition leader is a small
/// share of traffic, a blocking client is simple and already tested, and a handful of threads
/// keeps the event loop free. The broker calls `send` from a handler and answers through its
/// `HTTPResponder` in the completion, on a pool thread.
public final class HTTPClientPool: @unchecked Sendable {
    public typealias Completion = @Sendable (Result<HTTPResponse, HTTPClientError>) -> Void

    private struct Job {
        let request: HTTPRequest
        let address: SocketAddress
        let completion: Completion
    }

    // Guarded by `lock`.
    private var queue: [Job] = []
    private var queueHead = 0
    private var stopping = false
    private let lock = ConditionMutex()
    private var threads: [OSThread] = []

    /// Jobs waiting beyond this are refused with `.overloaded`.
    public let queueDepthMax: Int
    /// Per-request timeout and response bound, as in `HTTPClient`.
    public let timeoutMilliseconds: UInt64
    public let responseBytesMax: Int
    /// Idle keep-alive connections kept per destination per thread.
    public let idleConnectionsPerDestinationMax: Int

    /// Starts `threadCount` worker threads.
    public init(
        threadCount: Int = 4, queueDepthMax: Int = 4096, timeoutMilliseconds: UInt64 = 10_000,
        responseBytesMax: Int = 64 << 20, idleConnectionsPerDestinationMax: Int = 2
    ) {
        precondition((1...64).contains(threadCount) && queueDepthMax > 0, "pool limits out of range")
        self.queueDepthMax = queueDepthMax
        self.timeoutMilliseconds = timeoutMilliseconds
        self.responseBytesMax = responseBytesMax
        self.idleConnectionsPerDestinationMax = idleConnectionsPerDestinationMax
        threads = (0..<threadCount).map { index in
            OSThread.start(name: "http-client-\(index)") { self.work() }
        }
    }

    /// Queues `request` for `address`; `completion` runs on a pool thread and must not block
    /// (answering an `HTTPResponder` is fine). Returns false (and does not call `completion`)
    /// when the queue is full or the pool is shut down.
    @discardableResult
    public func send(_ request: HTTPRequest, to address: SocketAddress, completion: @escaping Completion) -> Bool {
        let accepted: Bool = lock.withLock {
            guard !stopping, queue.count - queueHead < queueDepthMax else { return false }
            queue.append(Job(request: request, address: address, completion: completion))
            return true
        }
        if accepted { lock.signal() }
        return accepted
    }

    /// The response, awaited from async code.
    public func send(_ request: HTTPRequest, to address: SocketAddress) async throws(HTTPClientError) -> HTTPResponse {
        let result: Result<HTTPResponse, HTTPClientError> = await withCheckedContinuation { continuation in
            let queued = send(request, to: address) { continuation.resume(returning: $0) }
            if !queued { continuation.resume(returning: .failure(.overloaded)) }
        }
        return try result.get()
    }

    /// Finishes queued jobs, then stops the threads. Later `send` calls are refused. The
    /// threads hold the pool, so an owner must call this to release it.
    public func shutdown() {
        lock.withLock { stopping = true }
        lock.broadcast()
        for thread in threads { thread.join() }
        threads = []
    }

    private func nextJob() -> Job? {
        lock.withLock {
            while queueHead == queue.count && !stopping {
                lock.wait(untilMonotonicNanoseconds: SystemClock().monotonicNanoseconds() + 1_000_000_000)
            }
            guard queueHead < queue.count else { return nil }
            let job = queue[queueHead]
            queueHead += 1
            if queueHead == queue.count || queueHead >= 1024 {
                queue.removeFirst(queueHead)
                queueHead = 0
            }
            return job
        }
    }

    private func work() {
        var idle: [SocketAddress: [HTTPClient]] = [:]
        while let job = nextJob() {
            let client: HTTPClient
            if let reused = idle[job.address]?.popLast() {
                client = reused
            } else {
                do {
                    client = try HTTPClient(address: job.address, timeoutMilliseconds: timeoutMilliseconds, responseBytesMax: responseBytesMax)
                } catch {
                    job.completion(.failure(.io(error)))
                    continue
                }
            }
            let result = Result { () throws(HTTPClientError) in try client.send(job.request) }
            if client.isConnected && idle[job.address, default: []].count < idleConnectionsPerDestinationMax {
                idle[job.address, default: []].append(client)
            }
            job.completion(result)
        }
    }
}
