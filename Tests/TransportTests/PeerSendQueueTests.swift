import MOMCore
import Testing
@testable import Transport

@Suite struct PeerSendQueueTests {
    static func envelope(_ group: UInt64, bytes: Int) -> Envelope {
        Envelope(group: GroupID(group), payload: [UInt8](repeating: UInt8(truncatingIfNeeded: group), count: bytes))
    }

    @Test func boundsCountAllOrNothing() {
        var queue = PeerSendQueue(envelopesMax: 3, bytesMax: 1 << 20, controlEnvelopesMax: 2, controlBytesMax: 1 << 20,
                                  envelopeBytesMax: 1 << 16)
        #expect(queue.enqueue([Self.envelope(1, bytes: 1), Self.envelope(2, bytes: 1)], priority: .normal) == .queued)
        #expect(queue.enqueue([Self.envelope(3, bytes: 1), Self.envelope(4, bytes: 1)], priority: .normal) == .dropped(.queueFull))
        #expect(queue.envelopeCount == 2)
        #expect(queue.enqueue([Self.envelope(3, bytes: 1)], priority: .normal) == .queued)
        // The control lane has its own room even when the normal lane is full.
        #expect(queue.enqueue([Self.envelope(9, bytes: 1)], priority: .control) == .queued)
    }

    @Test func boundsBytesAndRejectsOversizeEnvelopes() {
        var queue = PeerSendQueue(envelopesMax: 100, bytesMax: 250, controlEnvelopesMax: 10, controlBytesMax: 250,
                                  envelopeBytesMax: 200)
        #expect(queue.enqueue([Self.envelope(1, bytes: 150)], priority: .normal) == .queued)
        #expect(queue.enqueue([Self.envelope(2, bytes: 150)], priority: .normal) == .dropped(.queueFull))
        #expect(queue.enqueue([Self.envelope(3, bytes: 199)], priority: .control) == .dropped(.envelopeTooLarge))
        #expect(queue.byteCount == Self.envelope(1, bytes: 150).encodedByteCount)
    }

    @Test func batchesTakeControlFirstAndRespectTheTarget() {
        var queue = PeerSendQueue(envelopesMax: 100, bytesMax: 1 << 20, controlEnvelopesMax: 10, controlBytesMax: 1 << 20,
                                  envelopeBytesMax: 1 << 16)
        let normal = (1...10).map { Self.envelope($0, bytes: 98) } // 100 encoded bytes each
        _ = queue.enqueue(normal, priority: .normal)
        _ = queue.enqueue([Self.envelope(99, bytes: 98)], priority: .control)
        var batch: [Envelope] = []
        #expect(queue.dequeueBatch(bytesTarget: 350, into: &batch) == 300)
        #expect(batch.map(\.group.rawValue) == [99, 1, 2])
        batch.removeAll()
        // A target below one envelope still makes progress.
        #expect(queue.dequeueBatch(bytesTarget: 1, into: &batch) == 100)
        #expect(batch.map(\.group.rawValue) == [3])
        batch.removeAll()
        _ = queue.dequeueBatch(bytesTarget: 1 << 20, into: &batch)
        #expect(batch.map(\.group.rawValue) == Array(4...10))
        #expect(queue.isEmpty && queue.byteCount == 0)
    }
}
