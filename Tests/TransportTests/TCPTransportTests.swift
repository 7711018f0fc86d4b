import Glibc
import MOMCore
import SystemIO
import Testing
@testable import Transport

/// Real transports on 127.0.0.1 with ephemeral ports. Listeners start first (port 0), then every
/// node learns the others' bound addresses through `updatePeers`, as it will from ZooKeeper.
/// Waits are bounded polls; nothing asserts on timing.
@Suite struct TCPTransportTests {
    static func connectAll(_ nodes: [Node]) {
        let addresses = Dictionary(uniqueKeysWithValues: nodes.map { ($0.id, $0.address) })
        for node in nodes { node.transport.updatePeers(addresses) }
    }

    @Test func threeNodesExchangeManyGroupsInOrderPerPair() throws {
        let seed = testSeed()
        let nodes = try (1...3).map { try Node.start(UInt64($0), seed: seed) }
        defer { nodes.forEach { $0.transport.stop() } }
        Self.connectAll(nodes)
        let perPair: UInt32 = 600
        var random = SeededRandom(seed: seed)
        for sender in nodes {
            for receiver in nodes where receiver.id != sender.id {
                var sequence: UInt32 = 0
                while sequence < perPair {
                    // Variable batch sizes, and groups interleaved across the one connection.
                    let batch = min(perPair - sequence, UInt32(random.uniform(in: 1...40)))
                    let envelopes = (sequence..<(sequence + batch)).map {
                        sequenced(from: sender.id, sequence: $0, group: GroupID(UInt64($0 % 40)), padding: Int($0 % 300))
                    }
                    #expect(sender.transport.send(envelopes, to: receiver.id) == .queued, "seed \(seed)")
                    sequence += batch
                }
            }
        }
        let expected = Int(perPair) * 2
        #expect(eventually { nodes.allSatisfy { $0.inbox.count == expected } }, "seed \(seed)")
        for receiver in nodes {
            for sender in nodes where sender.id != receiver.id {
                let received = receiver.inbox.envelopes(from: sender.id)
                #expect(received.compactMap(sequenceNumber) == Array(0..<perPair), "seed \(seed)")
                #expect(received.allSatisfy { $0.payload.first == UInt8(sender.id.rawValue) })
                #expect(received.allSatisfy { $0.group.rawValue == UInt64(sequenceNumber(of: $0)! % 40) })
                let statistics = try #require(sender.peer(receiver.id))
                #expect(statistics.connected)
                #expect(statistics.envelopesSent == UInt64(perPair) && statistics.envelopesDropped == 0)
            }
        }
    }

    /// While the peer refuses the handshake (it does not know us yet) envelopes wait in the queue;
    /// once it accepts, the whole backlog leaves in a handful of frames, control lane first.
    @Test func queuedEnvelopesLeaveBatchedWithControlFirst() throws {
        let acceptor = try Node.start(2)
        let dialer = try Node.start(1)
        defer { acceptor.transport.stop(); dialer.transport.stop() }
        dialer.transport.updatePeers([acceptor.id: acceptor.address])
        for sequence in 0..<2_000 {
            dialer.transport.send(sequenced(from: dialer.id, sequence: UInt32(sequence), group: GroupID(UInt64(sequence % 7))),
                                  to: acceptor.id)
        }
        let heartbeat = Envelope(group: .nodeLevel, payload: Array("all groups".utf8))
        // The host-facing form: a node-level payload takes the control lane by itself.
        dialer.transport.send(to: acceptor.id, group: .nodeLevel, payload: heartbeat.payload)
        #expect(dialer.peer(acceptor.id)?.framesSent == 0)

        acceptor.transport.updatePeers([dialer.id: dialer.address])
        #expect(eventually { acceptor.inbox.count == 2_001 })
        let received = acceptor.inbox.envelopes(from: dialer.id)
        #expect(received.first == heartbeat)
        #expect(received.dropFirst().compactMap(sequenceNumber) == Array(0..<2_000))
        let sent = try #require(dialer.peer(acceptor.id))
        #expect(sent.envelopesSent == 2_001)
        #expect(sent.framesSent >= 1 && sent.framesSent <= 3, "framesSent \(sent.framesSent)")
        #expect(acceptor.peer(dialer.id)?.framesReceived == sent.framesSent)
        #expect(acceptor.inbox.batches == Int(sent.framesSent))
    }

    @Test func wrongClusterIDIsRejected() throws {
        let acceptor = try Node.start(5, cluster: "alpha")
        let stranger = try Node.start(1, cluster: "beta")
        defer { acceptor.transport.stop(); stranger.transport.stop() }
        acceptor.transport.updatePeers([stranger.id: stranger.address])
        stranger.transport.updatePeers([acceptor.id: acceptor.address])
        stranger.transport.send(Envelope(group: GroupID(1), payload: [1]), to: acceptor.id)
        #expect(eventually { acceptor.transport.statistics().handshakesRejected >= 2 })
        #expect(acceptor.log.contains("cluster id 'beta'"))
        #expect(acceptor.inbox.count == 0 && stranger.inbox.count == 0)
        #expect(acceptor.peer(stranger.id)?.connected == false)
        #expect(stranger.peer(acceptor.id)?.connected == false)
        #expect(stranger.peer(acceptor.id)?.queuedEnvelopes == 1)
    }

    @Test func unknownOrUnexpectedNodeIsRejected() throws {
        let acceptor = try Node.start(5)
        let unknown = try Node.start(2)       // not in the acceptor's peer set
        let misdirected = try Node.start(3)   // believes node 7 lives at the acceptor's address
        defer { [acceptor, unknown, misdirected].forEach { $0.transport.stop() } }
        acceptor.transport.updatePeers([NodeID(3): misdirected.address])
        unknown.transport.updatePeers([acceptor.id: acceptor.address])
        misdirected.transport.updatePeers([NodeID(7): acceptor.address])
        unknown.transport.send(Envelope(group: GroupID(1), payload: [1]), to: acceptor.id)
        misdirected.transport.send(Envelope(group: GroupID(1), payload: [1]), to: NodeID(7))
        #expect(eventually { acceptor.log.contains("node n2 is not a peer") && acceptor.log.contains("addressed node n7") })
        #expect(acceptor.transport.statistics().handshakesRejected >= 2)
        #expect(acceptor.inbox.count == 0)
        #expect(unknown.peer(acceptor.id)?.connected == false)
        #expect(misdirected.peer(NodeID(7))?.connected == false)
    }

    /// Both kinds of restart: the accepting side (the dialer redials with backoff) and the
    /// dialing side (the acceptor takes the new connection), each on the same port.
    @Test func reconnectsAfterEitherPeerRestarts() throws {
        var dialer = try Node.start(1)
        var acceptor = try Node.start(2)
        defer { dialer.transport.stop(); acceptor.transport.stop() }
        #expect(dialer.transport.connectionGeneration(of: acceptor.id) == nil, "no connection yet")
        Self.connectAll([dialer, acceptor])
        try Self.expectFlow(from: dialer, to: acceptor, tag: 1)
        try Self.expectFlow(from: acceptor, to: dialer, tag: 2)
        let firstGeneration = try #require(dialer.transport.connectionGeneration(of: acceptor.id))
        #expect(dialer.transport.connectionGeneration(of: NodeID(9)) == nil, "unknown peer")

        acceptor.transport.stop()
        acceptor = try Node.start(2, port: acceptor.address.port)
        Self.connectAll([dialer, acceptor])
        try Self.expectFlow(from: dialer, to: acceptor, tag: 3)
        try Self.expectFlow(from: acceptor, to: dialer, tag: 4)
        #expect((dialer.peer(acceptor.id)?.reconnects ?? 0) >= 1)
        // A request sent on the first connection can tell it is gone (NodeRelay relies on it).
        let secondGeneration = try #require(dialer.transport.connectionGeneration(of: acceptor.id))
        #expect(secondGeneration != firstGeneration)

        let acceptorGeneration = acceptor.transport.connectionGeneration(of: dialer.id)
        dialer.transport.stop()
        dialer = try Node.start(1, port: dialer.address.port)
        Self.connectAll([dialer, acceptor])
        try Self.expectFlow(from: dialer, to: acceptor, tag: 5)
        try Self.expectFlow(from: acceptor, to: dialer, tag: 6)
        #expect((acceptor.peer(dialer.id)?.reconnects ?? 0) >= 1)
        #expect(acceptor.transport.connectionGeneration(of: dialer.id) != acceptorGeneration)
        #expect(acceptor.transport.connectionGeneration(of: dialer.id) != nil)
    }

    /// Membership moves node 2 to another address: the dialer drops the old link and dials the
    /// new one. Then node 2 leaves: its queue goes, and sending to it says so.
    @Test func followsPeerAddressChangesAndRemovals() throws {
        let dialer = try Node.start(1)
        let first = try Node.start(2)
        let second = try Node.start(2)
        defer { [dialer, first, second].forEach { $0.transport.stop() } }
        first.transport.updatePeers([dialer.id: dialer.address])
        second.transport.updatePeers([dialer.id: dialer.address])
        dialer.transport.updatePeers([NodeID(2): first.address])
        try Self.expectFlow(from: dialer, to: first, tag: 1)

        dialer.transport.updatePeers([NodeID(2): second.address])
        try Self.expectFlow(from: dialer, to: second, tag: 2)
        #expect(dialer.log.contains("peer address changed"))
        #expect(eventually { first.peer(dialer.id)?.connected == false })

        dialer.transport.updatePeers([:])
        #expect(dialer.transport.send(Envelope(group: GroupID(1), payload: []), to: NodeID(2)) == .peerUnknown)
        #expect(dialer.transport.statistics().peers.isEmpty)
        #expect(eventually { second.peer(dialer.id)?.connected == false })
    }

    /// Probes until one arrives (messages sent into a dying connection may be lost, as Raft
    /// allows), then checks that a burst arrives complete and in order.
    static func expectFlow(from sender: Node, to receiver: Node, tag: UInt8) throws {
        let group = GroupID(UInt64(tag))
        let arrived = eventually {
            sender.transport.send(Envelope(group: group, payload: [tag]), to: receiver.id)
            usleep(10_000)
            return receiver.inbox.envelopes(from: sender.id).contains { $0.group == group }
        }
        try #require(arrived, "probe \(tag) from \(sender.id) to \(receiver.id)")
        let burst = (0..<100).map { sequenced(from: sender.id, sequence: UInt32($0), group: group) }
        #expect(sender.transport.send(burst, to: receiver.id) == .queued)
        #expect(eventually {
            receiver.inbox.envelopes(from: sender.id).filter { $0.group == group }.compactMap(sequenceNumber) == Array(0..<100)
        }, "burst \(tag)")
    }

    @Test func sendIsBoundedAndNeverBlocksWhileThePeerIsDown() throws {
        // Reserve a port, then leave it closed: the peer is down.
        let placeholder = try Node.start(2)
        let port = placeholder.address.port
        placeholder.transport.stop()
        let sender = try Node.start(1) { configuration in
            configuration.limits.peerSendQueueEnvelopesMax = 10
            configuration.limits.peerSendQueueBytesMax = 4_000
            configuration.limits.frameBytesMax = 8_192
        }
        defer { sender.transport.stop() }
        let peer = NodeID(2)
        sender.transport.updatePeers([peer: .loopback(port: port)])

        var results: [SendResult] = []
        for sequence in 0..<25 {
            results.append(sender.transport.send(sequenced(from: sender.id, sequence: UInt32(sequence), group: GroupID(1)), to: peer))
        }
        #expect(results.prefix(10).allSatisfy { $0 == .queued })
        #expect(results.dropFirst(10).allSatisfy { $0 == .dropped(.queueFull) })
        let big = Envelope(group: GroupID(1), payload: [UInt8](repeating: 1, count: 8_192))
        #expect(sender.transport.send(big, to: peer) == .dropped(.envelopeTooLarge))
        #expect(sender.transport.send(Envelope(group: GroupID(1), payload: []), to: NodeID(9)) == .peerUnknown)
        let statistics = try #require(sender.peer(peer))
        #expect(statistics.envelopesDroppedQueueFull == 15 && statistics.envelopesDroppedTooLarge == 1)
        #expect(statistics.queuedEnvelopes == 10 && !statistics.connected)

        // The peer comes up on its port: the ten queued envelopes flow, in order.
        let receiver = try Node.start(2, port: port)
        defer { receiver.transport.stop() }
        receiver.transport.updatePeers([sender.id: sender.address])
        #expect(eventually { receiver.inbox.count == 10 })
        #expect(receiver.inbox.envelopes(from: sender.id).compactMap(sequenceNumber) == Array(0..<10))

        sender.transport.stop()
        #expect(sender.transport.send(Envelope(group: GroupID(1), payload: []), to: peer) == .dropped(.stopped))
    }

    @Test func corruptOrOversizeFramesCloseTheConnection() throws {
        let node = try Node.start(4)
        defer { node.transport.stop() }
        var handshake: [UInt8] = []
        FrameEncoder.appendHandshake(Handshake(clusterID: "test-cluster", sender: NodeID(1), receiver: NodeID(4)), to: &handshake)
        handshake[handshake.count - 1] ^= 0xFF       // body no longer matches its checksum
        let oversize = FrameCodecTests.header(bodyLength: Limits.standard.frameBytesMax, checksum: 0)
        // Legal once a peer is identified, too big for an unidentified one.
        let largeBeforeHandshake = FrameCodecTests.header(bodyLength: 4_096, checksum: 0)
        for (index, garbage) in [handshake, oversize, largeBeforeHandshake].enumerated() {
            let closed = try Self.sendRaw(garbage, to: node.address)
            #expect(closed, "case \(index): transport closed the connection")
            #expect(eventually { node.transport.statistics().connectionsClosedForBadFrames == UInt64(index + 1) })
        }
        #expect(node.log.contains("CRC32C mismatch") && node.log.contains("outside 1..."))
    }

    /// A peer that restarts without its old socket dying (power loss, a half-open connection)
    /// dials again: the newer connection replaces the older one, and envelopes use the new one.
    @Test func newerConnectionFromTheSamePeerReplacesTheOlder() throws {
        let node = try Node.start(4)
        defer { node.transport.stop() }
        node.transport.updatePeers([NodeID(1): .loopback(port: 9)])   // never dialled: 1 < 4
        var hello: [UInt8] = []
        FrameEncoder.appendHandshake(Handshake(clusterID: "test-cluster", sender: NodeID(1), receiver: NodeID(4)), to: &hello)
        let older = try FileDescriptor.connectTCP(to: node.address)
        defer { try? older.close() }
        _ = try Self.exchange(hello, on: older, expectingFrames: 1)
        #expect(eventually { node.peer(NodeID(1))?.connected == true })
        let newer = try FileDescriptor.connectTCP(to: node.address)
        defer { try? newer.close() }
        _ = try Self.exchange(hello, on: newer, expectingFrames: 1)
        #expect(eventually { node.log.contains("replaced by a newer connection") })
        #expect(try Self.exchange([], on: older, expectingFrames: 0) == nil, "the older connection was closed")

        node.transport.send(Envelope(group: GroupID(3), payload: [7]), to: NodeID(1))
        let frames = try #require(try Self.exchange([], on: newer, expectingFrames: 1))
        #expect(frames == [.envelopes([Envelope(group: GroupID(3), payload: [7])])])
        #expect(node.peer(NodeID(1))?.reconnects == 1)
    }

    /// Writes `bytes` on a raw socket, then reads until `expectingFrames` frames arrived (returns
    /// them) or the other side closed it (returns nil). Bounded by `eventually`'s deadline.
    static func exchange(_ bytes: [UInt8], on socket: FileDescriptor, expectingFrames: Int) throws -> [Frame]? {
        var offset = 0
        var decoder = FrameDecoder(frameBytesMax: 1 << 20)
        var frames: [Frame] = []
        var closed = false
        var buffer = [UInt8](repeating: 0, count: 4096)
        let done = eventually {
            if offset < bytes.count {
                if let written = try? bytes.withUnsafeBytes({ try socket.send(from: UnsafeRawBufferPointer(rebasing: $0[offset...])) }) {
                    offset += written
                }
                return false
            }
            switch Result(catching: { try buffer.withUnsafeMutableBytes { try socket.receive(into: $0) } }) {
            case .success(let count?) where count > 0:
                decoder.feed(buffer[0..<count])
                while let frame = try? decoder.nextFrame() { frames.append(frame) }
            case .success(nil): break
            case .success, .failure: closed = true
            }
            return closed || (expectingFrames > 0 && frames.count >= expectingFrames)
        }
        try #require(done, "raw exchange finished")
        return closed ? nil : frames
    }

    /// Connects a raw socket, writes `bytes`, and reports whether the other side closed it.
    static func sendRaw(_ bytes: [UInt8], to address: SocketAddress) throws -> Bool {
        let socket = try FileDescriptor.connectTCP(to: address)
        defer { try? socket.close() }
        var offset = 0
        var buffer = [UInt8](repeating: 0, count: 256)
        var closed = false
        _ = eventually {
            if offset < bytes.count {
                if let written = try? bytes.withUnsafeBytes({ try socket.send(from: UnsafeRawBufferPointer(rebasing: $0[offset...])) }) {
                    offset += written
                }
                return false
            }
            switch Result(catching: { try buffer.withUnsafeMutableBytes { try socket.receive(into: $0) } }) {
            case .success(let count?) where count == 0: closed = true
            case .failure: closed = true
            default: break
            }
            return closed
        }
        return closed
    }
}
