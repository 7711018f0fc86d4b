/// The envelopes waiting for one peer, in two lanes, bounded in count and bytes.
///
/// `send` never blocks: when a lane is at its bound the whole call is refused and counted, and
/// Raft retries from its own state later. The control lane has its own small bound so a backlog
/// of appends to a slow peer never crowds out the heartbeats that keep its followers calm.
/// Not thread-safe: the transport's lock guards it.
struct PeerSendQueue {
    /// Bounds of the normal lane.
    let envelopesMax: Int
    let bytesMax: Int
    /// Bounds of the control lane.
    let controlEnvelopesMax: Int
    let controlBytesMax: Int
    /// The largest envelope that still fits in one frame, in encoded bytes.
    let envelopeBytesMax: Int

    private var control = EnvelopeFIFO()
    private var normal = EnvelopeFIFO()

    init(envelopesMax: Int, bytesMax: Int, controlEnvelopesMax: Int, controlBytesMax: Int, envelopeBytesMax: Int) {
        precondition(envelopesMax > 0 && bytesMax > 0 && controlEnvelopesMax > 0 && controlBytesMax > 0,
                     "queue bounds must be positive")
        self.envelopesMax = envelopesMax
        self.bytesMax = bytesMax
        self.controlEnvelopesMax = controlEnvelopesMax
        self.controlBytesMax = controlBytesMax
        self.envelopeBytesMax = envelopeBytesMax
    }

    var isEmpty: Bool { control.isEmpty && normal.isEmpty }
    var envelopeCount: Int { control.count + normal.count }
    var byteCount: Int { control.byteCount + normal.byteCount }

    /// Queues all of `envelopes` on the lane for `priority`, or none of them.
    mutating func enqueue(_ envelopes: [Envelope], priority: SendPriority) -> SendResult {
        var batchBytes = 0
        for envelope in envelopes {
            let size = envelope.encodedByteCount
            if size > envelopeBytesMax { return .dropped(.envelopeTooLarge) }
            batchBytes += size
        }
        switch priority {
        case .control:
            guard control.count + envelopes.count <= controlEnvelopesMax,
                  control.byteCount + batchBytes <= controlBytesMax else { return .dropped(.queueFull) }
            control.append(contentsOf: envelopes, bytes: batchBytes)
        case .normal:
            guard normal.count + envelopes.count <= envelopesMax,
                  normal.byteCount + batchBytes <= bytesMax else { return .dropped(.queueFull) }
            normal.append(contentsOf: envelopes, bytes: batchBytes)
        }
        return .queued
    }

    /// Moves the next frame's worth of envelopes into `batch`: control lane first, then normal,
    /// until `bytesTarget` is reached. Always takes at least one envelope when any is queued (each
    /// fits a frame on its own), and never more than `envelopeBytesMax` in total.
    /// Returns the encoded bytes taken.
    mutating func dequeueBatch(bytesTarget: Int, into batch: inout [Envelope]) -> Int {
        let budget = min(bytesTarget, envelopeBytesMax)
        var taken = control.popFront(upTo: budget, takingAtLeastOne: true, into: &batch)
        if taken < budget {
            taken += normal.popFront(upTo: budget - taken, takingAtLeastOne: batch.isEmpty, into: &batch)
        }
        return taken
    }

    /// Discards everything queued (the peer left the membership). Returns how many were queued.
    mutating func removeAll() -> Int {
        let count = envelopeCount
        control = EnvelopeFIFO()
        normal = EnvelopeFIFO()
        return count
    }
}

/// A FIFO of envelopes with its encoded byte total. Popping advances a head index and compacts
/// occasionally, so draining a long queue is linear, not quadratic.
struct EnvelopeFIFO {
    private var storage: [Envelope] = []
    private var head = 0
    private(set) var byteCount = 0

    var count: Int { storage.count - head }
    var isEmpty: Bool { head == storage.count }

    mutating func append(contentsOf envelopes: [Envelope], bytes: Int) {
        storage.append(contentsOf: envelopes)
        byteCount += bytes
    }

    mutating func popFront(upTo budget: Int, takingAtLeastOne: Bool, into batch: inout [Envelope]) -> Int {
        var taken = 0
        while head < storage.count {
            let size = storage[head].encodedByteCount
            let mustTake = takingAtLeastOne && taken == 0
            if taken + size > budget && !mustTake { break }
            batch.append(storage[head])
            // Release the payload now; the slot is reclaimed at the next compaction.
            storage[head].payload = []
            head += 1
            taken += size
        }
        byteCount -= taken
        if head == storage.count {
            storage.removeAll(keepingCapacity: storage.capacity <= 4096)
            head = 0
        } else if head >= 1024 && head * 2 >= storage.count {
            storage.removeSubrange(0..<head)
            head = 0
        }
        return taken
    }
}
