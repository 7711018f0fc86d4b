import SystemIO

/// An exchange failure, and whether it may be retried on a fresh connection (nothing of the
/// response was received, so the server may never have seen the request).
struct ExchangeError: Error {
    let error: HTTPClientError
    let mayRetry: Bool
}

/// The socket half of `HTTPClient`: connect, write, read, each bounded by the deadline.
extension HTTPClient {
    func connectIfNeeded(deadline: UInt64) throws(ExchangeError) -> FileDescriptor {
        if let connection { return connection }
        let descriptor: FileDescriptor
        do {
            descriptor = try FileDescriptor.connectTCP(to: address)
        } catch {
            throw ExchangeError(error: .connectFailed(error), mayRetry: false)
        }
        do {
            try epoll.add(descriptor, events: [.writable], token: 1)
            try waitUntilReady(deadline: deadline)
            if let failure = try descriptor.pendingSocketError() {
                throw ExchangeError(error: .connectFailed(failure), mayRetry: false)
            }
            try epoll.modify(descriptor, events: [.readable, .writable, .edgeTriggered], token: 1)
        } catch let error as ExchangeError {
            try? descriptor.close()
            throw error
        } catch {
            try? descriptor.close()
            throw ExchangeError(error: .connectFailed(error as? Errno ?? .ioError), mayRetry: false)
        }
        connection = descriptor
        return descriptor
    }

    /// Whether the idle keep-alive connection is still usable: no end of stream and no
    /// unsolicited bytes (such as a 408 before the server closed it).
    func connectionStillOpen() -> Bool {
        guard let connection else { return false }
        let result: Result<Int?, Errno> = scratch.withUnsafeMutableBytes { bytes in
            Result { () throws(Errno) in try connection.receive(into: UnsafeMutableRawBufferPointer(rebasing: bytes[..<1])) }
        }
        if case .success(nil) = result { return true }  // would block: open and quiet
        return false
    }

    /// Waits for readiness until the deadline.
    func waitUntilReady(deadline: UInt64) throws(ExchangeError) {
        let now = clock.monotonicNanoseconds()
        guard now < deadline else { throw ExchangeError(error: .timedOut, mayRetry: false) }
        let milliseconds = Int32(min((deadline - now + 999_999) / 1_000_000, UInt64(Int32.max)))
        do {
            try epoll.wait(timeoutMilliseconds: milliseconds, maxEvents: 4) { _ in }
        } catch {
            throw ExchangeError(error: .io(error), mayRetry: false)
        }
    }

    func writeAll(_ descriptor: FileDescriptor, deadline: UInt64) throws(ExchangeError) {
        var offset = 0
        while offset < requestBuffer.count {
            let start = offset
            let sent: Int?
            do {
                sent = try requestBuffer.withUnsafeBytes { bytes throws(Errno) -> Int? in
                    try descriptor.send(from: UnsafeRawBufferPointer(rebasing: bytes[start...]))
                }
            } catch {
                throw ExchangeError(error: .io(error as? Errno ?? .ioError), mayRetry: true)
            }
            if let sent { offset += sent } else { try waitUntilReady(deadline: deadline) }
        }
    }

    /// Reads one response. `onHead` (pipelining) runs once, as soon as the final response's
    /// status line and headers have arrived, before the rest of its body is read; what it throws
    /// ends the read with that error.
    func readResponse(
        _ descriptor: FileDescriptor, isHead: Bool, deadline: UInt64, onHead: HTTPClient.HeadHandler? = nil
    ) throws(ExchangeError) -> (HTTPResponse, Bool) {
        let parser = HTTPResponseParser(headerBytesMax: 64 << 10, bodyBytesMax: responseBytesMax)
        var endOfStream = false
        var receivedAny = false
        var headSeen = onHead == nil
        while true {
            if !headSeen, case .head(let head) = input.withUnsafeBufferPointer({ parser.parseHead($0, endOfStream: endOfStream) }),
               head.status.code >= 200 {
                headSeen = true
                do {
                    try onHead?(head.status, head.headers)
                } catch {
                    throw ExchangeError(error: error, mayRetry: false)
                }
            }
            let outcome = input.withUnsafeBufferPointer { parser.parse($0, endOfStream: endOfStream, isHead: isHead) }
            switch outcome {
            case .response(let response, let consumed, let keepAlive):
                input.removeFirst(consumed)
                if response.status.code >= 100 && response.status.code < 200 { continue }  // 100 Continue
                return (response, keepAlive)
            case .failure(let reason):
                close()
                throw ExchangeError(error: .malformedResponse(reason), mayRetry: false)
            case .incomplete:
                if endOfStream {
                    close()
                    throw ExchangeError(error: .connectionClosed, mayRetry: !receivedAny)
                }
            }
            let count: Int?
            do {
                count = try scratch.withUnsafeMutableBytes { bytes throws(Errno) -> Int? in try descriptor.receive(into: bytes) }
            } catch {
                close()
                throw ExchangeError(error: .io(error as? Errno ?? .ioError), mayRetry: !receivedAny)
            }
            guard let count else {
                try waitUntilReady(deadline: deadline)
                continue
            }
            if count == 0 {
                endOfStream = true
            } else {
                receivedAny = true
                input.append(contentsOf: scratch[..<count])
            }
        }
    }
}
