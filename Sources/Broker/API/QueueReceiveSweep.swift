import HTTPServer
import MOMCore
import SystemIO

/// One `POST /v1/queues/{q}/receive` on the node the client called: it sweeps the queue's
/// partitions one after another from a rotating first partition (so receivers spread over
/// partitions), claiming from each partition's leader until it holds `maxMessages`.
///
/// When a sweep finds nothing and the client asked to wait, it long-polls one partition (the
/// next in rotation) for a slice — the whole wait for a one-partition queue led here, at most
/// `remoteWaitSliceMilliseconds` otherwise — then sweeps again, until the wait runs out. Why
/// not wait on every partition at once: a wait that claims would leave orphan claims when
/// several partitions answer together (those messages would be invisible to everyone until
/// their ack timeout), and only one claim request per receive is ever outstanding this way.
///
/// Steps run one at a time (each starts from the previous one's completion, on whichever
/// thread that arrives), so the state needs no lock. Rounds are bounded by the wait and by
/// `roundsMax`.
final class QueueReceiveSweep: @unchecked Sendable {
    private let api: BrokerAPI
    private let queue: QueueConfig
    private let maxMessages: Int
    private let deadlineNanoseconds: UInt64
    private let original: HTTPRequest
    private let firstPartition: Int
    private let responder: HTTPResponder
    private let clock = SystemClock()
    private let roundsMax = 1_000

    private var collected: [ClaimedMessage] = []
    private var round = 0
    /// Partitions that answered (even with nothing) in this sweep, and the first error.
    private var answered = 0
    private var firstError: HTTPError?

    init(
        api: BrokerAPI, queue: QueueConfig, maxMessages: Int, waitMilliseconds: UInt64, original: HTTPRequest,
        firstPartition: Int, responder: HTTPResponder
    ) {
        self.api = api
        self.queue = queue
        self.maxMessages = maxMessages
        self.deadlineNanoseconds = clock.monotonicNanoseconds() + waitMilliseconds * 1_000_000
        self.original = original
        self.firstPartition = firstPartition
        self.responder = responder
    }

    func start() { sweep(step: 0) }

    private var partitionCount: Int { queue.partitions.count }

    private func partition(at step: Int) -> Int { (firstPartition + round + step) % partitionCount }

    private func sweep(step: Int) {
        guard step < partitionCount, collected.count < maxMessages else { return endOfSweep() }
        api.receive(from: queue, partition: partition(at: step), maxMessages: maxMessages - collected.count,
                    waitMilliseconds: 0, original: original) { result in
            self.record(result)
            self.sweep(step: step + 1)
        }
    }

    private func record(_ result: Result<[ClaimedMessage], HTTPError>) {
        switch result {
        case .success(let messages):
            collected += messages.prefix(maxMessages - collected.count)
            answered += 1
        case .failure(let error):
            firstError = firstError ?? error
        }
    }

    private func endOfSweep() {
        let now = clock.monotonicNanoseconds()
        guard collected.isEmpty, now < deadlineNanoseconds, answered > 0, round < roundsMax else { return finish() }
        let remainingMilliseconds = (deadlineNanoseconds - now) / 1_000_000
        let target = partition(at: 0)
        let leadsOnlyPartition = partitionCount == 1 && api.node.host.status(of: queue.partitions[0].group)?.role == .leader
        let slice = leadsOnlyPartition ? remainingMilliseconds : min(remainingMilliseconds, BrokerAPI.remoteWaitSliceMilliseconds)
        guard slice > 0 else { return finish() }
        api.receive(from: queue, partition: target, maxMessages: maxMessages, waitMilliseconds: slice, original: original) { result in
            let sweepAnswered = self.answered
            self.answered = 0
            self.record(result)
            guard self.collected.isEmpty, self.answered > 0 else {
                self.answered = max(self.answered, sweepAnswered)
                return self.finish()
            }
            self.round += 1
            self.answered = 0
            self.firstError = nil
            self.sweep(step: 0)
        }
    }

    /// Answers with what was claimed; an error only when nothing was claimed and no partition
    /// answered (a queue whose every partition is leaderless right now: 503, retry).
    private func finish() {
        if collected.isEmpty, answered == 0, let firstError {
            responder.send(error: firstError)
        } else {
            responder.send(QueueWire.response(collected))
        }
    }
}
