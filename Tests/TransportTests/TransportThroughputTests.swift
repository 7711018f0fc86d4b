import Glibc
import MOMCore
import SystemIO
import Testing
@testable import Transport

/// A measurement, not a test of speed: it runs only with `MOM_TRANSPORT_BENCH=1` (best with
/// `swift test -c release -Xswiftc -enable-testing`), prints msgs/s and MB/s, and asserts only
/// that every envelope arrived. Bounded in count and in time.
@Suite struct TransportThroughputTests {
    @Test(.enabled(if: getenv("MOM_TRANSPORT_BENCH") != nil))
    func oneKibibyteEnvelopesBetweenTwoTransports() throws {
        let envelopeCount = Int(getenv("MOM_TRANSPORT_BENCH_MESSAGES").flatMap { Int(String(cString: $0)) } ?? 500_000)
        let payloadBytes = 1_024
        let batchSize = 64
        let sender = try Node.start(1)
        let counter = Counter()
        var configuration = TCPTransportConfiguration(localNode: NodeID(2), clusterID: "test-cluster", listenAddress: .loopback(port: 0))
        configuration.log = { _ in }
        let receiver = TCPTransport(configuration: configuration)
        try receiver.start { _, envelopes in counter.add(envelopes.count) }
        defer { sender.transport.stop(); receiver.stop() }
        sender.transport.updatePeers([NodeID(2): receiver.listenAddress!])
        receiver.updatePeers([sender.id: sender.address])

        let batch = (0..<batchSize).map { Envelope(group: GroupID(UInt64($0 % 16)), payload: [UInt8](repeating: UInt8($0), count: payloadBytes)) }
        let clock = SystemClock()
        let start = clock.monotonicNanoseconds()
        let deadline = start + 60_000_000_000
        var queued = 0
        var refusals = 0
        while queued < envelopeCount && clock.monotonicNanoseconds() < deadline {
            switch sender.transport.send(batch, to: NodeID(2)) {
            case .queued: queued += batchSize
            default:
                refusals += 1       // queue full: back off briefly, as a producer would
                usleep(50)
            }
        }
        #expect(eventually(seconds: 60) { counter.value >= queued })
        let elapsed = Double(clock.monotonicNanoseconds() - start) / 1e9
        let statistics = sender.peer(NodeID(2))!
        let messagesPerSecond = Double(counter.value) / elapsed
        print("transport throughput: \(counter.value) x \(payloadBytes) B in \(elapsed) s = \(Int(messagesPerSecond)) msgs/s, "
              + "\(messagesPerSecond * Double(payloadBytes) / 1e6) MB/s; frames \(statistics.framesSent), "
              + "envelopes/frame \(Double(statistics.envelopesSent) / Double(max(statistics.framesSent, 1))), refusals \(refusals)")
        #expect(counter.value == queued)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = ConditionMutex()
    private var total = 0
    func add(_ count: Int) { lock.withLock { total += count } }
    var value: Int { lock.withLock { total } }
}
