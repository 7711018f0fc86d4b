import MOMCore

/// The append messages a leader has sent a follower and not yet seen acknowledged (etcd's
/// tracker/inflights.go): a ring of (last index, bytes) pairs, bounded in count and in bytes,
/// which is what bounds pipelining.
struct Inflights {
    /// Ring storage; grows up to `countMax` slots, then wraps.
    private var buffer: [(index: LogIndex, bytes: Int)] = []
    /// Position of the oldest message. Invariant: `start < buffer.count` when `count > 0`.
    private var start = 0
    /// Messages in flight. Invariant: `0 <= count <= countMax`.
    private(set) var count = 0
    /// Bytes in flight. Invariant: the sum of the in-flight messages' bytes.
    private(set) var bytes = 0
    let countMax: Int
    let bytesMax: Int

    init(countMax: Int, bytesMax: Int) {
        precondition(countMax > 0 && bytesMax > 0, "inflight limits must be positive")
        self.countMax = countMax
        self.bytesMax = bytesMax
    }

    /// No more messages may be sent until an acknowledgement frees some.
    var isFull: Bool { count >= countMax || bytes >= bytesMax }

    /// Records a sent message whose last entry is `index`. Indices must increase.
    mutating func add(index: LogIndex, bytes messageBytes: Int) {
        precondition(!isFull, "inflights full")
        var slot = start + count
        if slot >= countMax { slot -= countMax }
        if slot == buffer.count {
            buffer.append((index, messageBytes))
        } else {
            buffer[slot] = (index, messageBytes)
        }
        count += 1
        bytes += messageBytes
    }

    /// Frees every message whose last index is <= `index` (they are acknowledged).
    mutating func free(upTo index: LogIndex) {
        while count > 0 && buffer[start].index <= index {
            bytes -= buffer[start].bytes
            count -= 1
            start += 1
            if start >= countMax { start = 0 }
        }
        if count == 0 { start = 0 }
    }

    /// Frees the oldest message, to unblock a window whose messages may all have been lost.
    mutating func freeFirst() {
        guard count > 0 else { return }
        free(upTo: buffer[start].index)
    }

    mutating func reset() {
        start = 0
        count = 0
        bytes = 0
    }
}
