import SystemIO

/// One client connection's state, owned by exactly one event loop thread (no locks).
///
/// Requests are answered strictly in arrival order (RFC 9112 §9.3.2): each parsed request
/// takes a slot in `pending`, its response fills that slot whenever it arrives, and only the
/// filled prefix of `pending` is serialized into `output`.
final class HTTPConnection {
    /// One request awaiting (or holding) its response.
    struct Pending {
        let sequence: UInt32
        let keepAlive: Bool
        let isHTTP10: Bool
        let isHead: Bool
        var response: HTTPResponse?
    }

    let descriptor: FileDescriptor
    let slot: Int
    let generation: UInt32

    /// Received bytes; those before `inputStart` are consumed.
    var input: [UInt8] = []
    var inputStart = 0
    var parser: HTTPRequestParser

    /// Serialized response bytes; those before `outputStart` are sent.
    var output: [UInt8] = []
    var outputStart = 0

    /// Requests in arrival order, at most `pipelineDepthMax`. `pendingHead` indexes the oldest.
    var pending: [Pending] = []
    var pendingHead = 0
    var nextSequence: UInt32 = 0

    /// Edge-triggered readiness: set by epoll events, cleared on EAGAIN.
    var readable = false
    var writable = true
    /// The peer sent FIN: answer what was received, then close.
    var peerClosed = false
    /// epoll reported RDHUP: read to end of stream instead of trusting a short read.
    var peerHalfClosed = false
    /// Set once the server has sent its last byte and shut down writing: input is drained and
    /// discarded until end of stream or this deadline, so the peer reads the last response
    /// instead of a reset.
    var lingerDeadlineNanoseconds: UInt64?
    /// False for a connection accepted over `connectionsMax` only to be answered 503.
    var countsTowardLimit = true
    /// A request asked to close, or a request was rejected: parse nothing more.
    var stopParsing = false
    /// The last queued response carries `Connection: close`: close once it is sent.
    var closeAfterFlush = false
    var sentContinue = false

    /// When the first byte of the request being received arrived (header-read timeout).
    var requestStartedNanoseconds: UInt64?
    /// The last read or write progress (idle timeout).
    var lastActivityNanoseconds: UInt64

    init(descriptor: FileDescriptor, slot: Int, generation: UInt32, parserLimits: HTTPParserLimits, nowNanoseconds: UInt64) {
        self.descriptor = descriptor
        self.slot = slot
        self.generation = generation
        self.parser = HTTPRequestParser(limits: parserLimits)
        self.lastActivityNanoseconds = nowNanoseconds
        input.reserveCapacity(4096)
    }

    var unparsedBytes: Int { input.count - inputStart }
    var unsentBytes: Int { output.count - outputStart }
    var pendingCount: Int { pending.count - pendingHead }

    /// Whether the connection has nothing in progress (idle keep-alive).
    var isIdle: Bool { unparsedBytes == 0 && pendingCount == 0 && unsentBytes == 0 }

    /// Appends a request slot and returns its sequence number.
    func addPending(keepAlive: Bool, isHTTP10: Bool, isHead: Bool) -> UInt32 {
        let sequence = nextSequence
        nextSequence = (nextSequence + 1) & HTTPTicket.sequenceMask
        pending.append(Pending(sequence: sequence, keepAlive: keepAlive, isHTTP10: isHTTP10, isHead: isHead))
        return sequence
    }

    /// Stores the response for `sequence`. False if no such request is waiting (stale ticket).
    func fill(sequence: UInt32, with response: HTTPResponse) -> Bool {
        for index in pendingHead..<pending.count where pending[index].sequence == sequence {
            guard pending[index].response == nil else { return false }
            pending[index].response = response
            return true
        }
        return false
    }

    /// Serializes the answered prefix of `pending` into `output`, in order.
    /// `forceClose` (server shutting down) turns keep-alive off.
    func serializeReady(forceClose: Bool, dateLine: [UInt8]) -> Bool {
        var progressed = false
        while pendingHead < pending.count, let response = pending[pendingHead].response {
            let entry = pending[pendingHead]
            let keepAlive = entry.keepAlive && !forceClose
            HTTPResponseSerializer.append(
                response, keepAlive: keepAlive, isHTTP10: entry.isHTTP10, omitBody: entry.isHead, dateLine: dateLine, to: &output)
            pending[pendingHead].response = nil  // release the body now
            pendingHead += 1
            progressed = true
            if !keepAlive {
                closeAfterFlush = true
                stopParsing = true
                pending.removeAll()
                pendingHead = 0
                break
            }
        }
        if pendingHead == pending.count {
            pending.removeAll(keepingCapacity: true)
            pendingHead = 0
        }
        return progressed
    }

    /// Drops consumed input bytes so the buffer does not grow with the connection's age.
    func compactInput() {
        if inputStart == input.count {
            if input.capacity > 1 << 20 { input = [] } else { input.removeAll(keepingCapacity: true) }
            inputStart = 0
        } else if inputStart > 0 && (inputStart >= 64 << 10 || inputStart * 2 >= input.count) {
            input.removeFirst(inputStart)
            inputStart = 0
        }
    }

    /// Drops sent output bytes.
    func compactOutput() {
        if outputStart == output.count {
            if output.capacity > 1 << 20 { output = [] } else { output.removeAll(keepingCapacity: true) }
            outputStart = 0
        } else if outputStart >= 64 << 10 && outputStart * 2 >= output.count {
            output.removeFirst(outputStart)
            outputStart = 0
        }
    }
}

/// A responder's address: which loop slot, which connection generation in that slot, which
/// request on the connection. A stale ticket (the connection closed, the slot was reused)
/// fails the generation or sequence check and its response is dropped.
enum HTTPTicket {
    static let sequenceMask: UInt32 = (1 << 24) - 1
    static let generationMask: UInt32 = (1 << 18) - 1
    static let slotMax = 1 << 22

    static func make(slot: Int, generation: UInt32, sequence: UInt32) -> UInt64 {
        UInt64(slot) << 42 | UInt64(generation & generationMask) << 24 | UInt64(sequence & sequenceMask)
    }

    static func slot(_ ticket: UInt64) -> Int { Int(ticket >> 42) }
    static func generation(_ ticket: UInt64) -> UInt32 { UInt32(ticket >> 24 & UInt64(generationMask)) }
    static func sequence(_ ticket: UInt64) -> UInt32 { UInt32(ticket & UInt64(sequenceMask)) }
}
