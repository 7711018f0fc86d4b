import SystemIO

/// Accepting, timeouts and shutdown.
extension HTTPEventLoop {
    /// Accepts pending connections (bounded per wake-up so reads are not starved).
    func acceptConnections() {
        guard let listener else { return }
        for _ in 0..<64 {
            let accepted: (FileDescriptor, SocketAddress)?
            do {
                accepted = try listener.acceptConnection()
            } catch {
                // Out of descriptors or memory: stop polling the listener briefly instead of
                // spinning on a level-triggered wake-up we cannot act on.
                epoll.remove(listener)
                listenerPausedUntil = now + 100_000_000
                return
            }
            guard let (descriptor, _) = accepted else { return }
            try? descriptor.setNoDelay()
            if HTTPServerCounters.tryAcquire(counters.connectionsOpen, maximum: configuration.limits.connectionsMax) {
                register(descriptor, countsTowardLimit: true)
            } else {
                counters.connectionsRejected.add(1, ordering: .relaxed)
                rejectOverLimit(descriptor)
            }
        }
    }

    /// Answers a connection beyond `connectionsMax` with 503 and closes it. A few such
    /// connections linger so the client reads the 503; past that they are closed at once.
    private func rejectOverLimit(_ descriptor: FileDescriptor) {
        guard rejectedLingering < Self.rejectedLingeringMax else {
            try? descriptor.close()
            return
        }
        rejectedLingering += 1
        guard let connection = register(descriptor, countsTowardLimit: false) else { return }
        reject(connection, with: HTTPResponse(error: HTTPError.serviceUnavailable(
            "too many connections to this server; retry shortly", retryAfterSeconds: 1, code: "overloaded")))
        service(connection)
    }

    @discardableResult
    private func register(_ descriptor: FileDescriptor, countsTowardLimit: Bool) -> HTTPConnection? {
        let slot: Int
        if let free = freeSlots.popLast() {
            slot = free
        } else {
            precondition(connections.count < HTTPTicket.slotMax, "connection slots exhausted")
            slot = connections.count
            connections.append(nil)
            generations.append(0)
        }
        let connection = HTTPConnection(
            descriptor: descriptor, slot: slot, generation: generations[slot],
            parserLimits: configuration.parserLimits, nowNanoseconds: now)
        connection.countsTowardLimit = countsTowardLimit
        connections[slot] = connection
        liveCount += 1
        do {
            try epoll.add(descriptor, events: [.readable, .writable, .readHangup, .edgeTriggered],
                          token: UInt64(slot) << 32 | UInt64(connection.generation))
        } catch {
            close(connection)
            return nil
        }
        return connection
    }

    /// Applies timeouts: header-read (slowloris) and stalled bodies get 408; idle keep-alive
    /// connections and peers that stopped reading are closed; lingering ends.
    func sweep() {
        nextSweepNanoseconds = now + sweepIntervalNanoseconds
        if let until = listenerPausedUntil, now >= until, let listener {
            listenerPausedUntil = nil
            try? epoll.add(listener, events: .readable, token: Self.listenerToken)
        }
        let headerTimeout = configuration.limits.headerReadTimeoutMilliseconds * 1_000_000
        let idleTimeout = configuration.limits.idleTimeoutMilliseconds * 1_000_000
        for case let connection? in connections {
            let idleFor = now &- connection.lastActivityNanoseconds
            if let lingerDeadline = connection.lingerDeadlineNanoseconds {
                if now >= lingerDeadline { close(connection) }
                continue
            }
            if connection.stopParsing || connection.closeAfterFlush {
                if connection.unsentBytes > 0 && idleFor > idleTimeout { close(connection) }  // peer stopped reading
                continue
            }
            // While the server itself has paused reading (pipeline full, output backed up),
            // the client is not the slow one: no header deadline then.
            let serverPaused = connection.pendingCount >= configuration.pipelineDepthMax
                || connection.unsentBytes >= configuration.writeBufferBytesMax
            if let started = connection.requestStartedNanoseconds, !serverPaused, !connection.parser.isAwaitingBody,
               now &- started > headerTimeout {
                reject(connection, with: HTTPResponse(error: HTTPError(
                    .requestTimeout, code: "request_timeout", message: "request headers were not received in time")))
                service(connection)
            } else if connection.parser.isAwaitingBody && !serverPaused && idleFor > idleTimeout {
                reject(connection, with: HTTPResponse(error: HTTPError(
                    .requestTimeout, code: "request_timeout", message: "request body stalled")))
                service(connection)
            } else if connection.isIdle {
                // A connection that never sent a request gets the header timeout, not the
                // (longer) keep-alive idle timeout.
                if idleFor > (connection.nextSequence == 0 ? headerTimeout : idleTimeout) { close(connection) }
            } else if connection.unsentBytes > 0 && idleFor > idleTimeout {
                close(connection)
            }
        }
    }

    /// Stops accepting; idle connections close now, busy ones after their current response.
    func beginShutdown(graceMilliseconds: UInt64) {
        shutdownDeadline = now + graceMilliseconds * 1_000_000
        if let listener {
            epoll.remove(listener)
            try? listener.close()
            self.listener = nil
        }
        for case let connection? in connections { service(connection) }
    }

    func closeEverything() {
        for case let connection? in connections { close(connection) }
        if let listener {
            epoll.remove(listener)
            try? listener.close()
            self.listener = nil
        }
    }
}
