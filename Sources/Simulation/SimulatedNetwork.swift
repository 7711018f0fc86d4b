import MOMCore
import Raft

/// How unreliable the simulated network is. Percentages are per message; delays are in ticks.
/// Reordering follows from random delays: two messages on one link may overtake each other.
public struct NetworkFaults: Equatable, Sendable {
    /// Chance (percent) that a message is lost.
    public var dropPercent: UInt64
    /// Chance (percent) that a message is delivered twice (each copy with its own delay).
    public var duplicatePercent: UInt64
    /// Shortest delivery delay. Zero delivers within the tick it was sent (the benchmark).
    public var delayTicksMin: UInt64
    /// Longest delivery delay.
    public var delayTicksMax: UInt64

    /// A network with the given faults.
    public init(dropPercent: UInt64 = 0, duplicatePercent: UInt64 = 0, delayTicksMin: UInt64 = 1, delayTicksMax: UInt64 = 1) {
        precondition(dropPercent <= 100 && duplicatePercent <= 100, "percentages are at most 100")
        precondition(delayTicksMin <= delayTicksMax, "delayTicksMin exceeds delayTicksMax")
        self.dropPercent = dropPercent
        self.duplicatePercent = duplicatePercent
        self.delayTicksMin = delayTicksMin
        self.delayTicksMax = delayTicksMax
    }

    /// Every message arrives once, one tick later: the network after healing.
    public static let reliable = NetworkFaults()
}

/// A message on the wire, due at `deliveryTick`; `sequence` breaks ties so delivery order is a
/// pure function of the seed.
struct InFlightMessage {
    var deliveryTick: UInt64
    var sequence: UInt64
    var message: Message
}

/// The simulated network (VOPR's packet simulator, etcd's `network`): delays, drops, duplicates,
/// reordering and partitions, every decision drawn from the simulation's one `SeededRandom`.
/// Bounded: when `messagesInFlightMax` messages are queued, further sends are dropped (a full
/// socket buffer), which Raft must tolerate like any loss.
struct SimulatedNetwork {
    var faults: NetworkFaults
    let messagesInFlightMax: Int
    private(set) var inFlight: [InFlightMessage] = []
    /// The side of the partition each node is on (by node position); nodes on different sides
    /// cannot exchange messages. All zero when healed.
    private(set) var sideOfNode: [Int]
    private var sequence: UInt64 = 0
    private(set) var statistics = NetworkStatistics()

    init(nodeCount: Int, faults: NetworkFaults, messagesInFlightMax: Int) {
        self.faults = faults
        self.messagesInFlightMax = messagesInFlightMax
        self.sideOfNode = Array(repeating: 0, count: nodeCount)
    }

    var isPartitioned: Bool { sideOfNode.contains { $0 != sideOfNode[0] } }

    /// Whether the link between the nodes at positions `a` and `b` is up.
    func canTalk(_ a: Int, _ b: Int) -> Bool { sideOfNode[a] == sideOfNode[b] }

    /// Splits the cluster: node at position `k` goes to side `sides[k]`.
    mutating func partition(sides: [Int]) {
        precondition(sides.count == sideOfNode.count, "one side per node")
        sideOfNode = sides
    }

    /// Restores every link. Messages already in flight stay in flight.
    mutating func heal() {
        sideOfNode = Array(repeating: 0, count: sideOfNode.count)
    }

    /// Puts `message` (from position `from` to position `to`) on the wire at tick `now`.
    mutating func send(_ message: Message, from: Int, to: Int, now: UInt64, random: inout SeededRandom) {
        statistics.sent += 1
        guard canTalk(from, to) else {
            statistics.cut += 1
            return
        }
        if faults.dropPercent > 0 && random.chance(faults.dropPercent, in: 100) {
            statistics.dropped += 1
            return
        }
        var copies = 1
        if faults.duplicatePercent > 0 && random.chance(faults.duplicatePercent, in: 100) {
            copies = 2
            statistics.duplicated += 1
        }
        for _ in 0..<copies {
            guard inFlight.count < messagesInFlightMax else {
                statistics.overflowed += 1
                return
            }
            let width = faults.delayTicksMax - faults.delayTicksMin + 1
            let delay = faults.delayTicksMin + random.uniform(below: width)
            sequence += 1
            inFlight.append(InFlightMessage(deliveryTick: now + delay, sequence: sequence, message: message))
        }
    }

    /// Removes and returns the messages due by `now`, in (delivery tick, send order) order.
    /// A message whose link was cut while it was in flight is lost.
    mutating func takeDue(now: UInt64, positionOf: (NodeID) -> Int?) -> [Message] {
        var due: [InFlightMessage] = []
        var remaining: [InFlightMessage] = []
        remaining.reserveCapacity(inFlight.count)
        for item in inFlight {
            if item.deliveryTick <= now { due.append(item) } else { remaining.append(item) }
        }
        inFlight = remaining
        due.sort { ($0.deliveryTick, $0.sequence) < ($1.deliveryTick, $1.sequence) }
        var messages: [Message] = []
        messages.reserveCapacity(due.count)
        for item in due {
            guard let from = positionOf(item.message.from), let to = positionOf(item.message.to), canTalk(from, to) else {
                statistics.cut += 1
                continue
            }
            statistics.delivered += 1
            messages.append(item.message)
        }
        return messages
    }
}

/// What happened to messages during a run, for reports and for tests that check faults happen.
public struct NetworkStatistics: Equatable, Sendable {
    /// Messages handed to the network.
    public var sent: UInt64 = 0
    /// Messages that reached their recipient's host (it may be down).
    public var delivered: UInt64 = 0
    /// Messages lost to the drop rate.
    public var dropped: UInt64 = 0
    /// Messages sent twice.
    public var duplicated: UInt64 = 0
    /// Messages lost to a partition.
    public var cut: UInt64 = 0
    /// Messages lost because the in-flight bound was reached.
    public var overflowed: UInt64 = 0
}
