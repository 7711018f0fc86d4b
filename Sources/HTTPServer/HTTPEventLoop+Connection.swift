import SystemIO

/// Per-connection work on the loop thread: parse, dispatch, serialize, write, read.
extension HTTPEventLoop {
    enum ReadOutcome { case data, wouldBlock, endOfStream, failed }

    /// Makes all the progress a connection allows, bounded per call so one busy connection
    /// cannot starve the others; a connection with work left is serviced again next turn.
    func service(_ connection: HTTPConnection) {
        if connection.lingerDeadlineNanoseconds != nil {
            drainLingering(connection)
            return
        }
        for _ in 0..<16 {
            var progressed = parseAndDispatch(connection)
            if connection.serializeReady(forceClose: shutdownDeadline != nil, dateLine: dateLine) { progressed = true }
            let unsentBefore = connection.unsentBytes
            guard flush(connection) else { return }
            // Draining output can unblock parsing that waited on the backlog.
            if connection.unsentBytes < unsentBefore { progressed = true }
            if shouldClose(connection) {
                finish(connection)
                return
            }
            if canRead(connection) {
                switch read(connection) {
                case .data, .endOfStream: progressed = true
                case .wouldBlock: break
                case .failed:
                    close(connection)
                    return
                }
            }
            if !progressed { return }
        }
        readyConnections.append((connection.slot, connection.generation))
    }

    /// Parses and dispatches buffered requests while the pipeline has room and the output is
    /// not backed up (already-buffered requests must not bypass the backpressure).
    private func parseAndDispatch(_ connection: HTTPConnection) -> Bool {
        var progressed = false
        while !connection.stopParsing && connection.pendingCount < configuration.pipelineDepthMax
            && connection.unsentBytes < configuration.writeBufferBytesMax && connection.unparsedBytes > 0 {
            let start = connection.inputStart
            let result = connection.input.withUnsafeBufferPointer { buffer in
                connection.parser.parse(UnsafeBufferPointer(rebasing: buffer[start...]))
            }
            switch result {
            case .incomplete:
                if connection.parser.pendingExpectsContinue && !connection.sentContinue && connection.pendingCount == 0 {
                    HTTPResponseSerializer.appendContinue(to: &connection.output)
                    connection.sentContinue = true
                    progressed = true
                }
                return progressed
            case .request(let request, let consumed):
                connection.inputStart += consumed
                connection.compactInput()
                connection.requestStartedNanoseconds = connection.unparsedBytes > 0 ? now : nil
                connection.sentContinue = false
                dispatch(request, on: connection)
                progressed = true
            case .failure(let error):
                reject(connection, with: HTTPResponse(error: error.httpError))
                return true
            }
        }
        return progressed
    }

    /// Hands a request to the handler, or answers 503 when too many are in flight.
    private func dispatch(_ request: HTTPRequest, on connection: HTTPConnection) {
        let keepAlive = request.wantsKeepAlive && shutdownDeadline == nil
        let sequence = connection.addPending(keepAlive: keepAlive, isHTTP10: !request.isHTTP11, isHead: request.method == .head)
        if !keepAlive { connection.stopParsing = true }
        guard HTTPServerCounters.tryAcquire(counters.requestsInFlight, maximum: configuration.limits.requestsInFlightMax) else {
            counters.requestsRejected.add(1, ordering: .relaxed)
            _ = connection.fill(sequence: sequence, with: HTTPResponse(error: HTTPError.serviceUnavailable(
                "too many requests in flight on this server; retry shortly", retryAfterSeconds: 1, code: "overloaded")))
            return
        }
        counters.requestsTotal.add(1, ordering: .relaxed)
        let responder = HTTPResponder(
            sink: self, ticket: HTTPTicket.make(slot: connection.slot, generation: connection.generation, sequence: sequence))
        handler(request, responder)
        if let response = responder.finishInline() {
            counters.requestsInFlight.subtract(1, ordering: .relaxed)
            _ = connection.fill(sequence: sequence, with: response)
        }
    }

    /// Queues a final error response (after any earlier pipelined ones) and stops parsing.
    func reject(_ connection: HTTPConnection, with response: HTTPResponse) {
        let sequence = connection.addPending(keepAlive: false, isHTTP10: false, isHead: false)
        _ = connection.fill(sequence: sequence, with: response)
        connection.stopParsing = true
        connection.requestStartedNanoseconds = nil
    }

    private func canRead(_ connection: HTTPConnection) -> Bool {
        connection.readable && !connection.peerClosed && !connection.stopParsing
            && connection.pendingCount < configuration.pipelineDepthMax
            && connection.unsentBytes < configuration.writeBufferBytesMax
            && connection.unparsedBytes < configuration.limits.requestHeaderBytesMax + configuration.limits.requestBodyBytesMax + configuration.readChunkBytes
    }

    private func shouldClose(_ connection: HTTPConnection) -> Bool {
        if connection.unsentBytes > 0 { return false }
        if connection.closeAfterFlush { return true }
        if connection.peerClosed && connection.pendingCount == 0 { return true }
        return shutdownDeadline != nil && connection.isIdle && connection.requestStartedNanoseconds == nil
    }

    /// Reads one chunk into the connection's input.
    private func read(_ connection: HTTPConnection) -> ReadOutcome {
        let count: Int?
        do {
            count = try connection.descriptor.receive(into: scratch)
        } catch {
            return .failed
        }
        guard let count else {
            connection.readable = false
            return .wouldBlock
        }
        if count == 0 {
            connection.peerClosed = true
            connection.readable = false
            return .endOfStream
        }
        if connection.unparsedBytes == 0 && !connection.parser.isAwaitingBody { connection.requestStartedNanoseconds = now }
        connection.input.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[..<count]).assumingMemoryBound(to: UInt8.self))
        connection.lastActivityNanoseconds = now
        // Edge-triggered: a short read means the socket buffer was empty, and new data raises a
        // new edge, so skip the read that would only say EAGAIN. Not after RDHUP: the FIN's
        // edge has been consumed, so read on to end of stream.
        if count < scratch.count && !connection.peerHalfClosed { connection.readable = false }
        return .data
    }

    /// Writes as much output as the socket takes. False if the connection was closed.
    func flush(_ connection: HTTPConnection) -> Bool {
        while connection.unsentBytes > 0 && connection.writable {
            let start = connection.outputStart
            let sent: Int?
            do {
                sent = try connection.output.withUnsafeBytes { bytes throws(Errno) in
                    try connection.descriptor.send(from: UnsafeRawBufferPointer(rebasing: bytes[start...]))
                }
            } catch {
                close(connection)
                return false
            }
            guard let sent else {
                connection.writable = false
                break
            }
            connection.outputStart += sent
            connection.lastActivityNanoseconds = now
        }
        connection.compactOutput()
        return true
    }

    /// Ends a connection whose work is done: lingers when the server chose to close (the peer
    /// may still be sending), closes at once otherwise.
    func finish(_ connection: HTTPConnection) {
        if connection.closeAfterFlush && !connection.peerClosed {
            connection.descriptor.shutdownWrite()
            connection.lingerDeadlineNanoseconds = now + min(Self.lingerMillisecondsMax, configuration.limits.idleTimeoutMilliseconds) * 1_000_000
            connection.input = []
            connection.inputStart = 0
            drainLingering(connection)
        } else {
            close(connection)
        }
    }

    /// Reads and discards until end of stream (then closes) or until the socket is empty.
    private func drainLingering(_ connection: HTTPConnection) {
        for _ in 0..<64 {
            let count: Int?
            do {
                count = try connection.descriptor.receive(into: scratch)
            } catch {
                close(connection)
                return
            }
            guard let count else { return }
            if count == 0 {
                close(connection)
                return
            }
        }
        readyConnections.append((connection.slot, connection.generation))
    }

    /// Closes the socket and frees the slot. Responses still in flight for it are dropped
    /// when they arrive (their ticket's generation no longer matches).
    func close(_ connection: HTTPConnection) {
        guard connections[connection.slot] === connection else { return }
        epoll.remove(connection.descriptor)
        try? connection.descriptor.close()
        connections[connection.slot] = nil
        generations[connection.slot] = (generations[connection.slot] &+ 1) & HTTPTicket.generationMask
        freeSlots.append(connection.slot)
        liveCount -= 1
        if connection.countsTowardLimit {
            counters.connectionsOpen.subtract(1, ordering: .relaxed)
        } else {
            rejectedLingering -= 1
        }
    }
}
