import MOMCore
import SystemIO

/// Reading, decoding, handshaking, framing and writing on established or handshaking connections.
extension TransportEventLoop {
    /// Reads what the socket has (bounded per wakeup; level-triggered epoll reports the rest)
    /// and handles every complete frame.
    func readAvailable(_ connection: TransportConnection) {
        var bytesRead = 0
        defer {
            if bytesRead > 0, let peer = connection.peer {
                shared.lock.withLock { shared.outboxes[peer]?.statistics.bytesReceived += UInt64(bytesRead) }
            }
        }
        for _ in 0..<Self.readsPerWakeupMax {
            let count: Int?
            do {
                count = try connection.descriptor.receive(into: readBuffer)
            } catch {
                close(connection, reason: .socketError(error))
                return
            }
            guard let count else { return }
            if count == 0 {
                close(connection, reason: .endOfStream)
                return
            }
            bytesRead += count
            connection.decoder.feed(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
            guard decodeFrames(connection) else { return }
            if count < readBuffer.count { return }
        }
    }

    /// Handles each complete frame; false when the connection was closed on the way.
    private func decodeFrames(_ connection: TransportConnection) -> Bool {
        while true {
            let frame: Frame?
            do {
                frame = try connection.decoder.nextFrame()
            } catch {
                shared.lock.withLock { shared.connectionsClosedForBadFrames += 1 }
                close(connection, reason: .badFrame(error))
                return false
            }
            switch frame {
            case nil:
                return true
            case .handshake(let handshake):
                guard connection.phase == .handshaking else {
                    close(connection, reason: .protocolViolation("handshake on an established connection"))
                    return false
                }
                guard completeHandshake(handshake, on: connection) else { return false }
            case .envelopes(let envelopes):
                guard connection.phase == .established, let peer = connection.peer else {
                    close(connection, reason: .protocolViolation("envelopes before the handshake"))
                    return false
                }
                shared.lock.withLock {
                    if let outbox = shared.outboxes[peer] {
                        outbox.statistics.framesReceived += 1
                        outbox.statistics.envelopesReceived += UInt64(envelopes.count)
                    }
                }
                if !envelopes.isEmpty { receive(peer, envelopes) }
            }
        }
    }

    /// Validates the other side's handshake; the accepting side answers with its own.
    /// False when the connection was closed.
    private func completeHandshake(_ handshake: Handshake, on connection: TransportConnection) -> Bool {
        let rejection = handshake.rejection(
            localNode: localNode, clusterID: configuration.clusterID,
            expectedSender: connection.isDialer ? connection.peer : nil,
            isKnownDialer: { node in node < self.localNode && self.links[node] != nil })
        if let rejection {
            shared.lock.withLock { shared.handshakesRejected += 1 }
            close(connection, reason: .handshakeRejected(rejection))
            return false
        }
        let peer = handshake.sender
        if !connection.isDialer {
            if let oldToken = links[peer]?.connectionToken, let old = connections[oldToken] {
                close(old, reason: .replaced)
            }
            connection.peer = peer
            links[peer]?.connectionToken = connection.token
            FrameEncoder.appendHandshake(
                Handshake(clusterID: configuration.clusterID, sender: localNode, receiver: peer), to: &connection.outbound)
        }
        connection.phase = .established
        connection.decoder.frameBytesMax = configuration.limits.frameBytesMax
        let isReconnect = links[peer]?.everEstablished ?? false
        links[peer]?.everEstablished = true
        links[peer]?.failures = 0
        shared.lock.withLock {
            guard let outbox = shared.outboxes[peer] else { return }
            outbox.statistics.connected = true
            if isReconnect { outbox.statistics.reconnects += 1 }
            shared.connectionsEstablished += 1
            outbox.connectionGeneration = shared.connectionsEstablished
        }
        flush(connection)
        return connections[connection.token] != nil
    }

    /// Flushes every established connection that is not waiting for writability.
    func flushEstablished() {
        for connection in Array(connections.values) where connection.phase == .established && !connection.writeInterest {
            flush(connection)
        }
    }

    /// Writes pending bytes and frames more envelopes from the peer's queue, one frame at a time,
    /// until the socket would block, the queue is empty, or the per-flush bound is reached.
    func flush(_ connection: TransportConnection) {
        var bytesWritten = 0
        defer {
            if bytesWritten > 0, let peer = connection.peer {
                shared.lock.withLock { shared.outboxes[peer]?.statistics.bytesSent += UInt64(bytesWritten) }
            }
        }
        var writes = 0
        while writes < Self.writesPerFlushMax {
            if !connection.hasPendingOutput {
                connection.resetOutbound()
                guard connection.phase == .established, let peer = connection.peer,
                      frameNextBatch(for: peer, into: connection) else { break }
            }
            let offset = connection.outboundOffset
            let descriptor = connection.descriptor
            let attempt = connection.outbound.withUnsafeBytes { raw in
                Result { () throws(Errno) -> Int? in try descriptor.send(from: UnsafeRawBufferPointer(rebasing: raw[offset...])) }
            }
            let written: Int?
            switch attempt {
            case .success(let count): written = count
            case .failure(let error):
                close(connection, reason: .socketError(error))
                return
            }
            writes += 1
            guard let written else { break }
            connection.outboundOffset += written
            bytesWritten += written
            if !connection.hasPendingOutput { connection.outboundEnvelopes = 0 }
        }
        if writes == Self.writesPerFlushMax { moreWork = true }
        updateWriteInterest(connection)
    }

    /// Moves the next batch from the peer's queue into one frame. False when nothing is queued.
    private func frameNextBatch(for peer: NodeID, into connection: TransportConnection) -> Bool {
        batchScratch.removeAll(keepingCapacity: true)
        shared.lock.withLock {
            guard let outbox = shared.outboxes[peer] else { return }
            _ = outbox.queue.dequeueBatch(bytesTarget: configuration.frameBatchBytesTarget, into: &batchScratch)
            if !batchScratch.isEmpty {
                outbox.statistics.framesSent += 1
                outbox.statistics.envelopesSent += UInt64(batchScratch.count)
            }
        }
        guard !batchScratch.isEmpty else { return false }
        FrameEncoder.appendEnvelopes(batchScratch, to: &connection.outbound)
        connection.outboundEnvelopes = batchScratch.count
        batchScratch.removeAll(keepingCapacity: true)
        return true
    }

    private func updateWriteInterest(_ connection: TransportConnection) {
        let wanted = connection.phase == .connecting || connection.hasPendingOutput
        guard wanted != connection.writeInterest, connections[connection.token] != nil else { return }
        let events: Epoll.Events = wanted ? [.readable, .writable] : .readable
        do {
            try epoll.modify(connection.descriptor, events: events, token: connection.token)
            connection.writeInterest = wanted
        } catch {
            close(connection, reason: .socketError(error))
        }
    }

    /// Closes a connection, unbinds it from its peer, counts what was lost, schedules a redial.
    func close(_ connection: TransportConnection, reason: CloseReason) {
        guard connections.removeValue(forKey: connection.token) != nil else { return }
        epoll.remove(connection.descriptor)
        try? connection.descriptor.close()
        let who = connection.peer.map { "\($0)" } ?? "an unidentified peer"
        if reason.isWorthLogging { log("closed connection with \(who): \(reason)") }
        guard let peer = connection.peer, let link = links[peer], link.connectionToken == connection.token else { return }
        links[peer]?.connectionToken = nil
        let wasEstablished = connection.phase == .established
        if wasEstablished {
            let lost = UInt64(connection.outboundEnvelopes)
            shared.lock.withLock {
                guard let outbox = shared.outboxes[peer] else { return }
                outbox.statistics.connected = false
                outbox.statistics.envelopesDroppedOnDisconnect += lost
            }
            // A link that worked is retried promptly: most likely the peer just restarted.
            links[peer]?.failures = 0
        }
        scheduleRedial(peer, now: clock.monotonicNanoseconds())
    }
}
