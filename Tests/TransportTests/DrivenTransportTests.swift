import Glibc
import MOMCore
import SystemIO
import Testing
@testable import Transport

/// A transport driven by another loop's thread (`startDriven`, TransportDriver), as the
/// replication loop drives it in momd. Real sockets on 127.0.0.1; waits are bounded polls,
/// nothing asserts on timing.
@Suite struct DrivenTransportTests {
    /// A thread that drives a transport until told to stop, counting its turns.
    final class DrivingThread: @unchecked Sendable {
        private let lock = ConditionMutex()
        private var stopRequested = false
        private var turnsDone = 0
        private var thread: OSThread?

        init(_ driver: TransportDriver, waitMillisecondsMax: UInt64) {
            thread = OSThread.start(name: "driver") { [self] in
                while !lock.withLock({ stopRequested }) {
                    driver.poll(waitMillisecondsMax: waitMillisecondsMax)
                    lock.withLock { turnsDone += 1 }
                }
            }
        }

        var turns: Int { lock.withLock { turnsDone } }

        func stop(_ driver: TransportDriver) {
            lock.withLock { stopRequested = true }
            driver.wake()
            thread?.join()
            thread = nil
        }
    }

    /// The driven node echoes every envelope back from inside its receive handler, that is from
    /// the driving thread, which queues without signalling: the echo leaves at the start of the
    /// next turn. The turns wait up to a minute, so an echo that waited for a wake-up would hang
    /// (and fail) instead of arriving.
    @Test func aDrivenTransportSendsAndReceivesInOrder() throws {
        let seed = testSeed()
        let peer = try Node.start(2, seed: seed)
        defer { peer.transport.stop() }
        var configuration = TCPTransportConfiguration(localNode: NodeID(1), clusterID: "test-cluster", listenAddress: .loopback(port: 0))
        configuration.random = SeededRandom(seed: seed)
        let driven = TCPTransport(configuration: configuration)
        let received = Inbox()
        let driver = try driven.startDriven { from, envelopes in
            received.deliver(from: from, envelopes)
            let echoes = envelopes.map { Envelope(group: GroupID($0.group.rawValue + 1_000), payload: $0.payload) }
            #expect(driven.send(echoes, to: from) == .queued)
        }
        let driving = DrivingThread(driver, waitMillisecondsMax: 60_000)
        defer {
            driving.stop(driver)
            driven.stop()
        }
        driven.updatePeers([peer.id: peer.address])
        driver.wake()
        peer.transport.updatePeers([driven.localNode: driven.listenAddress!])
        try #require(eventually { peer.peer(driven.localNode)?.connected == true }, "seed \(seed)")

        // From a foreign thread (this one): queued and signalled.
        var random = SeededRandom(seed: seed)
        var sequence: UInt32 = 0
        while sequence < 500 {
            let batch = min(500 - sequence, UInt32(random.uniform(in: 1...30)))
            let envelopes = (sequence..<(sequence + batch)).map { sequenced(from: driven.localNode, sequence: $0, group: GroupID(1), padding: Int($0 % 200)) }
            #expect(driven.send(envelopes, to: peer.id) == .queued)
            sequence += batch
        }
        // To the driven node, which echoes.
        for sequence in 0..<300 {
            peer.transport.send(sequenced(from: peer.id, sequence: UInt32(sequence), group: GroupID(2)), to: driven.localNode)
        }
        #expect(eventually { peer.inbox.count == 800 && received.count == 300 }, "seed \(seed)")
        let fromDriven = peer.inbox.envelopes(from: driven.localNode)
        #expect(fromDriven.filter { $0.group == GroupID(1) }.compactMap(sequenceNumber) == Array(0..<500), "seed \(seed)")
        #expect(fromDriven.filter { $0.group == GroupID(1_002) }.compactMap(sequenceNumber) == Array(0..<300), "seed \(seed)")
        #expect(received.envelopes(from: peer.id).compactMap(sequenceNumber) == Array(0..<300))
        #expect(driven.statistics().peers[peer.id]?.envelopesDropped == 0)
    }

    /// After `stop`, a turn touches no socket and waits for `wake` alone (here up to a minute),
    /// so a wake that did not end it would leave the count stuck; the transport refuses sends.
    @Test func afterStopATurnWaitsForWakeAlone() throws {
        let driven = TCPTransport(configuration: TCPTransportConfiguration(localNode: NodeID(1), clusterID: "test-cluster", listenAddress: .loopback(port: 0)))
        let driver = try driven.startDriven { _, _ in }
        let driving = DrivingThread(driver, waitMillisecondsMax: 60_000)
        #expect(eventually { driving.turns >= 1 })
        driven.stop()
        #expect(driven.send(Envelope(group: GroupID(1), payload: [1]), to: NodeID(2)) == .dropped(.stopped))
        for _ in 0..<3 {
            let before = driving.turns
            driver.wake()
            #expect(eventually { driving.turns > before })
        }
        driving.stop(driver)
    }
}
