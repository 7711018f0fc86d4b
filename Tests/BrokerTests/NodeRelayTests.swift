import HTTPServer
import MOMCore
import SystemIO
import Testing
@testable import Broker

/// A node link between relays in one process: sends queue up until the test delivers them,
/// so each step (request out, served, answer back) is explicit.
final class FakeRelayLink: RelayLink, @unchecked Sendable {
    struct Sent {
        let payload: [UInt8]
        let channel: GroupID
        let peer: NodeID
    }

    private let lock = ConditionMutex()
    private var queue: [Sent] = []
    private var generations: [NodeID: UInt64] = [:]
    private var accepting = true

    func connect(_ peer: NodeID, generation: UInt64) { lock.withLock { generations[peer] = generation } }
    func disconnect(_ peer: NodeID) { lock.withLock { generations[peer] = nil } }
    func refuseSends() { lock.withLock { accepting = false } }

    func send(_ payload: [UInt8], on channel: GroupID, to peer: NodeID) -> Bool {
        lock.withLock {
            guard accepting else { return false }
            queue.append(Sent(payload: payload, channel: channel, peer: peer))
            return true
        }
    }

    func connectionGeneration(of peer: NodeID) -> UInt64? { lock.withLock { generations[peer] } }

    /// Takes everything sent so far.
    func drain() -> [Sent] {
        lock.withLock {
            defer { queue.removeAll() }
            return queue
        }
    }
}

/// Collects what a responder was sent.
final class ResponseBox: @unchecked Sendable {
    private let lock = ConditionMutex()
    private var responses: [HTTPResponse] = []

    lazy var responder = HTTPResponder { [self] response in lock.withLock { responses.append(response) } }
    var all: [HTTPResponse] { lock.withLock { responses } }

    func errorCode() -> String? {
        guard let response = all.first else { return nil }
        return (try? JSONValue(parsing: response.body))?["error"]?["code"]?.stringValue
    }
}

/// Keeps responders alive, unanswered (a dropped responder answers 500 by itself).
final class ParkedResponders: @unchecked Sendable {
    private let lock = ConditionMutex()
    private var responders: [HTTPResponder] = []
    func keep(_ responder: HTTPResponder) { lock.withLock { responders.append(responder) } }
    func answerAll() {
        for responder in lock.withLock({ responders }) { responder.send(HTTPResponse(status: .ok)) }
    }
}

@Suite struct NodeRelayTests {
    /// Node 1 forwards, node 2 serves; node 2's handler answers 200 with the body reversed.
    struct Pair {
        let clock = ManualClock()
        let caller: NodeRelay
        let server: NodeRelay
        let callerLink = FakeRelayLink()
        let serverLink = FakeRelayLink()
        /// Responders of requests the server's handler keeps unanswered (`respond: false`).
        let parked = ParkedResponders()

        init(pendingMax: Int = 8, pendingBytesMax: Int = 32 << 20, servingMax: Int = 8, respond: Bool = true, handshake: Bool = true) {
            caller = NodeRelay(limits: .standard, clock: clock, timeoutMilliseconds: 1_000, pendingMax: pendingMax,
                               pendingBytesMax: pendingBytesMax, servingMax: servingMax)
            server = NodeRelay(limits: .standard, clock: clock, timeoutMilliseconds: 1_000, pendingMax: pendingMax, servingMax: servingMax)
            caller.attach(callerLink)
            server.attach(serverLink)
            callerLink.connect(NodeID(2), generation: 7)
            serverLink.connect(NodeID(1), generation: 3)
            let parked = parked
            server.serve { request, responder in
                guard respond else { return parked.keep(responder) }
                var headers = HTTPHeaders()
                headers.set(name: "X-Seen-Path", value: request.path)
                headers.set(name: "X-Seen-Auth", value: request.headers["Authorization"] ?? "")
                responder.send(HTTPResponse(status: .ok, headers: headers, body: request.body.reversed()))
            }
            if handshake {
                caller.probe(NodeID(2))
                deliverRequests()
                deliverAnswers()
                #expect(caller.isCapable(of: NodeID(2)))
            }
        }

        /// Delivers node 1's sends to node 2; returns how many.
        @discardableResult
        func deliverRequests() -> Int {
            let sent = callerLink.drain()
            for message in sent {
                #expect(message.peer == NodeID(2))
                server.receive(from: NodeID(1), channel: message.channel, payload: message.payload)
            }
            return sent.count
        }

        /// Delivers node 2's answers to node 1 (as if from `from`).
        @discardableResult
        func deliverAnswers(from: NodeID = NodeID(2)) -> Int {
            let sent = serverLink.drain()
            for message in sent {
                #expect(message.peer == NodeID(1))
                caller.receive(from: from, channel: message.channel, payload: message.payload)
            }
            return sent.count
        }
    }

    static func produce(_ body: String = "abc", path: String = "/v1/topics/t/partitions/0/records") -> HTTPRequest {
        HTTPRequest(method: .post, target: path, headers: HTTPHeaders([("Authorization", "Bearer x.y.z")]), body: Array(body.utf8))
    }

    @Test func aCarriedWriteIsServedByThePeerAndAnsweredThroughTheLink() {
        let pair = Pair()
        let box = ResponseBox()
        #expect(pair.caller.call(Self.produce("hello"), to: NodeID(2), responder: box.responder))
        #expect(box.all.isEmpty)
        #expect(pair.deliverRequests() == 1)
        #expect(pair.deliverAnswers() == 1)
        let response = try? #require(box.all.first)
        #expect(box.all.count == 1)
        #expect(response?.status == .ok)
        #expect(response?.body == Array("olleh".utf8))
        #expect(response?.headers["X-Seen-Path"] == "/v1/topics/t/partitions/0/records")
        #expect(response?.headers["X-Seen-Auth"] == "Bearer x.y.z", "the caller's credentials travel with the request")
        #expect(pair.caller.statistics() == NodeRelay.Statistics(relayed: 1, answered: 1))
        #expect(pair.server.statistics() == NodeRelay.Statistics(served: 1))
    }

    @Test func onlySmallWritesAreCarried() {
        #expect(NodeRelay.carries(Self.produce()))
        #expect(NodeRelay.carries(Self.produce(path: "/v1/queues/q/partitions/1/messages")))
        #expect(NodeRelay.carries(Self.produce(path: "/v1/queues/q/partitions/1/ack")))
        #expect(NodeRelay.carries(Self.produce(path: "/v1/topics/t/subscriptions/s/partitions/0/commit")))
        #expect(!NodeRelay.carries(Self.produce(path: "/v1/queues/q/partitions/1/receive")), "long-polls with large answers stay on HTTP")
        #expect(!NodeRelay.carries(HTTPRequest(method: .get, target: "/v1/topics/t/partitions/0/records?offset=0")))
        #expect(!NodeRelay.carries(Self.produce(String(repeating: "x", count: NodeRelay.bodyBytesMax + 1))))

        let pair = Pair()
        let box = ResponseBox()
        #expect(!pair.caller.call(Self.produce(path: "/v1/queues/q/receive"), to: NodeID(2), responder: box.responder))
        #expect(pair.callerLink.drain().isEmpty)
        #expect(pair.caller.statistics().declined == 1)
    }

    @Test func withoutAConnectionOrWhenTheQueueRefusesTheCallerFallsBack() {
        let pair = Pair()
        let box = ResponseBox()
        #expect(!pair.caller.call(Self.produce(), to: NodeID(3), responder: box.responder), "no connection to node 3")
        pair.callerLink.refuseSends()
        #expect(!pair.caller.call(Self.produce(), to: NodeID(2), responder: box.responder), "the send queue refused")
        pair.clock.advance(byMilliseconds: 5_000)
        pair.caller.sweep()
        #expect(box.all.isEmpty, "a declined call is the caller's to forward; the relay never answers it")
        #expect(pair.caller.statistics() == NodeRelay.Statistics(declined: 2))
    }

    @Test func aCallWhoseConnectionIsReplacedFailsAsOutcomeUnknownAndItsLateAnswerIsIgnored() {
        let pair = Pair()
        let box = ResponseBox()
        #expect(pair.caller.call(Self.produce(), to: NodeID(2), responder: box.responder))
        pair.caller.sweep()
        #expect(box.all.isEmpty, "same connection, within the deadline: still waiting")
        pair.callerLink.connect(NodeID(2), generation: 8)
        pair.caller.sweep()
        #expect(box.all.map(\.status) == [.serviceUnavailable])
        #expect(box.errorCode() == "forward_failed")
        pair.deliverRequests()
        pair.deliverAnswers()
        #expect(box.all.count == 1, "the answer that arrives after the failure is dropped")
        #expect(pair.caller.statistics() == NodeRelay.Statistics(relayed: 1, linkLost: 1))
    }

    @Test func aCallWithoutAnAnswerFailsAtItsDeadlineAndNotBefore() {
        let pair = Pair()
        let box = ResponseBox()
        #expect(pair.caller.call(Self.produce(), to: NodeID(2), responder: box.responder))
        pair.clock.advance(byMilliseconds: 999)
        pair.caller.sweep()
        #expect(box.all.isEmpty)
        pair.clock.advance(byMilliseconds: 1)
        pair.caller.sweep()
        #expect(box.errorCode() == "forward_failed")
        #expect(pair.caller.statistics().timedOut == 1)
    }

    @Test func anAnswerFromAnotherNodeDoesNotCompleteTheCall() {
        let pair = Pair()
        let box = ResponseBox()
        #expect(pair.caller.call(Self.produce(), to: NodeID(2), responder: box.responder))
        pair.deliverRequests()
        let answers = pair.serverLink.drain()
        for answer in answers { pair.caller.receive(from: NodeID(3), channel: answer.channel, payload: answer.payload) }
        #expect(box.all.isEmpty, "call ids are per caller; node 3 can't answer node 2's call")
        for answer in answers { pair.caller.receive(from: NodeID(2), channel: answer.channel, payload: answer.payload) }
        #expect(box.all.map(\.status) == [.ok], "the real answer still completes it")
    }

    @Test func pendingCallsAndServedRequestsAreBounded() {
        let pair = Pair(pendingMax: 2, servingMax: 1, respond: false)
        let boxes = (0..<3).map { _ in ResponseBox() }
        #expect(pair.caller.call(Self.produce(), to: NodeID(2), responder: boxes[0].responder))
        #expect(pair.caller.call(Self.produce(), to: NodeID(2), responder: boxes[1].responder))
        #expect(!pair.caller.call(Self.produce(), to: NodeID(2), responder: boxes[2].responder), "two calls are pending already")
        // The server's handler never answers, and it serves one at a time: the second is refused.
        #expect(pair.deliverRequests() == 2)
        #expect(pair.deliverAnswers() == 1)
        #expect(boxes[0].all.isEmpty)
        #expect(boxes[1].errorCode() == "overloaded")
        #expect(pair.server.statistics() == NodeRelay.Statistics(served: 1, refused: 1))
    }

    @Test func aNodeThatDoesNotServeYetIsNotRelayedToAndAStoppedCallerFailsWhatIsPending() {
        let clock = ManualClock()
        let caller = NodeRelay(limits: .standard, clock: clock)
        let idle = NodeRelay(limits: .standard, clock: clock)
        let callerLink = FakeRelayLink(), idleLink = FakeRelayLink()
        caller.attach(callerLink)
        idle.attach(idleLink)
        callerLink.connect(NodeID(2), generation: 1)
        idleLink.connect(NodeID(1), generation: 1)
        // The idle node answers the probe 503: it does not serve yet, so nothing is relayed.
        caller.probe(NodeID(2))
        for request in callerLink.drain() { idle.receive(from: NodeID(1), channel: request.channel, payload: request.payload) }
        for answer in idleLink.drain() { caller.receive(from: NodeID(2), channel: answer.channel, payload: answer.payload) }
        #expect(!caller.isCapable(of: NodeID(2)))
        #expect(!caller.call(Self.produce(), to: NodeID(2), responder: ResponseBox().responder))
        // Once it serves, the next probe (sent by that declined call) makes it capable.
        idle.serve { _, responder in responder.send(HTTPResponse(status: .ok)) }
        for request in callerLink.drain() { idle.receive(from: NodeID(1), channel: request.channel, payload: request.payload) }
        for answer in idleLink.drain() { caller.receive(from: NodeID(2), channel: answer.channel, payload: answer.payload) }
        #expect(caller.isCapable(of: NodeID(2)))
        let stopped = ResponseBox()
        #expect(caller.call(Self.produce(), to: NodeID(2), responder: stopped.responder))
        caller.stop()
        #expect(stopped.errorCode() == "forward_failed")
        #expect(!caller.call(Self.produce(), to: NodeID(2), responder: ResponseBox().responder), "a stopped relay takes nothing")
    }

    /// An older node drops relay envelopes: its probe is never answered, so nothing is
    /// relayed to it, and after the timeout the next call probes again.
    @Test func aPeerThatNeverAnswersTheProbeGetsEverythingOverHTTP() {
        let pair = Pair(handshake: false)
        let box = ResponseBox()
        #expect(!pair.caller.call(Self.produce(), to: NodeID(2), responder: box.responder))
        #expect(!pair.caller.call(Self.produce(), to: NodeID(2), responder: box.responder))
        #expect(pair.callerLink.drain().count == 1, "one probe per connection, not one per call")
        pair.clock.advance(byMilliseconds: 1_000)
        pair.caller.sweep()
        #expect(!pair.caller.call(Self.produce(), to: NodeID(2), responder: box.responder))
        #expect(pair.callerLink.drain().count == 1, "the timed-out probe is sent again")
        #expect(box.all.isEmpty && pair.caller.statistics() == NodeRelay.Statistics(declined: 3))
        // A new connection is probed afresh.
        pair.callerLink.connect(NodeID(2), generation: 8)
        pair.caller.sweep()
        pair.caller.probe(NodeID(2))
        pair.deliverRequests()
        pair.deliverAnswers()
        #expect(pair.caller.isCapable(of: NodeID(2)))
    }

    /// The serving node answers only on the connection a request came in on: after the caller
    /// reconnects (perhaps restarted, its call ids starting afresh) the old answer is dropped.
    @Test func anAnswerIsNotSentOnALaterConnection() {
        let pair = Pair(respond: false)
        #expect(pair.caller.call(Self.produce(), to: NodeID(2), responder: ResponseBox().responder))
        pair.deliverRequests()
        pair.serverLink.connect(NodeID(1), generation: 4)
        pair.parked.answerAll()
        #expect(pair.serverLink.drain().isEmpty)
    }

    @Test func aServedRequestFreesItsSlot() {
        let pair = Pair(servingMax: 1)
        for round in 0..<3 {
            let box = ResponseBox()
            #expect(pair.caller.call(Self.produce("r\(round)"), to: NodeID(2), responder: box.responder))
            pair.deliverRequests()
            pair.deliverAnswers()
            #expect(box.all.map(\.status) == [.ok], "round \(round)")
        }
        #expect(pair.server.statistics() == NodeRelay.Statistics(served: 3))
    }

    @Test func theServingNodeRefusesWhatTheRelayDoesNotCarry() throws {
        let pair = Pair()
        let request = HTTPRequest(method: .get, target: "/v1/topics/t/partitions/0/records?offset=0")
        pair.server.receive(from: NodeID(1), channel: RelayChannel.request, payload: RelayCodec.encode(request: request, callID: 42))
        let answers = pair.serverLink.drain()
        #expect(answers.count == 1)
        let (callID, response) = try RelayCodec.decodeResponse(try #require(answers.first).payload, limits: .standard)
        #expect(callID == 42 && response.status == .serviceUnavailable)
        #expect((try? JSONValue(parsing: response.body))?["error"]?["code"]?.stringValue == "relay_refused")
        #expect(pair.server.statistics() == NodeRelay.Statistics(refused: 1))
    }

    @Test func pendingRequestBytesAreBounded() {
        let pair = Pair(pendingBytesMax: 100_000)
        let body = String(repeating: "x", count: 40_000)
        #expect(pair.caller.call(Self.produce(body), to: NodeID(2), responder: ResponseBox().responder))
        #expect(pair.caller.call(Self.produce(body), to: NodeID(2), responder: ResponseBox().responder))
        #expect(!pair.caller.call(Self.produce(body), to: NodeID(2), responder: ResponseBox().responder), "over 100,000 bytes pending")
        pair.deliverRequests()
        pair.deliverAnswers()
        #expect(pair.caller.call(Self.produce(body), to: NodeID(2), responder: ResponseBox().responder), "answered calls free their bytes")
    }

    @Test func malformedPayloadsAreDropped() {
        let pair = Pair()
        pair.server.receive(from: NodeID(1), channel: RelayChannel.request, payload: [0xFF, 0xFF])
        pair.caller.receive(from: NodeID(2), channel: RelayChannel.response, payload: [])
        #expect(pair.serverLink.drain().isEmpty)
        #expect(pair.server.statistics() == NodeRelay.Statistics())
    }
}

@Suite struct RelayCodecTests {
    @Test func requestsAndResponsesRoundTrip() throws {
        var headers = HTTPHeaders([("Authorization", "Bearer a.b.c"), ("X-MOM-Hops", "1"), ("Content-Type", "application/vnd.mom.batch")])
        headers.add(name: "X-Repeated", value: "one")
        headers.add(name: "X-Repeated", value: "two")
        let request = HTTPRequest(method: .post, target: "/v1/topics/t/partitions/3/records?x=%20y", headers: headers, body: [0, 1, 2, 255])
        let (callID, decoded) = try RelayCodec.decodeRequest(RelayCodec.encode(request: request, callID: 1 << 40), limits: .standard)
        #expect(callID == 1 << 40)
        #expect(decoded.method == .post && decoded.path == request.path && decoded.rawQuery == "x=%20y")
        #expect(decoded.body == request.body)
        #expect(decoded.headers.map { "\($0.name)=\($0.value)" } == request.headers.map { "\($0.name)=\($0.value)" })

        for method in HTTPMethod.allCases {
            let (_, again) = try RelayCodec.decodeRequest(RelayCodec.encode(request: HTTPRequest(method: method, target: "/"), callID: 0), limits: .standard)
            #expect(again.method == method)
        }

        let response = HTTPResponse(status: HTTPStatus(code: 429), headers: HTTPHeaders([("Retry-After", "1")]), body: Array("{}".utf8))
        let (answerID, answer) = try RelayCodec.decodeResponse(RelayCodec.encode(response: response, callID: 9), limits: .standard)
        #expect(answerID == 9 && answer.status.code == 429 && answer.headers["Retry-After"] == "1" && answer.body == response.body)
    }

    /// The HTTP parser keeps obs-text bytes (not UTF-8) in a field value: the relay carries
    /// such a field as the `String` accessors read it, and the leader's decoder takes it.
    @Test func aFieldThatIsNotUTF8CrossesAsItsStringReadsIt() throws {
        let raw = Array("POST /v1/topics/t/records HTTP/1.1\r\nHost: x\r\nX-Odd: a".utf8) + [0xFF, 0xC3] + Array("b\r\nContent-Length: 0\r\n\r\n".utf8)
        var parser = HTTPRequestParser()
        guard case .request(let request, _) = raw.withUnsafeBufferPointer({ parser.parse($0) }) else {
            Issue.record("the parser should take the request")
            return
        }
        let (_, decoded) = try RelayCodec.decodeRequest(RelayCodec.encode(request: request, callID: 3), limits: .standard)
        #expect(decoded.headers["X-Odd"] == request.headers["X-Odd"])
        #expect(decoded.headers["X-Odd"] == "a\u{FFFD}\u{FFFD}b")
        #expect(decoded.headers.map { "\($0.name)=\($0.value)" } == request.headers.map { "\($0.name)=\($0.value)" })
    }

    @Test func truncatedOrCorruptPayloadsThrow() {
        let request = RelayCodec.encode(request: NodeRelayTests.produce(), callID: 5)
        for length in 0..<request.count {
            #expect(throws: DecodeError.self) { try RelayCodec.decodeRequest(Array(request.prefix(length)), limits: .standard) }
        }
        #expect(throws: DecodeError.self) { try RelayCodec.decodeRequest(request + [0], limits: .standard) }
        var badMethod = request
        badMethod[1] = UInt8(HTTPMethod.allCases.count)
        #expect(throws: DecodeError.self) { try RelayCodec.decodeRequest(badMethod, limits: .standard) }

        var tooManyHeaders = BinaryWriter()
        tooManyHeaders.write(varint: 1)
        tooManyHeaders.write(fixed: UInt16(200))
        tooManyHeaders.write(varint: UInt64(RelayCodec.headerFieldsMax + 1))
        #expect(throws: DecodeError.self) { try RelayCodec.decodeResponse(tooManyHeaders.bytes, limits: .standard) }
        var badStatus = BinaryWriter()
        badStatus.write(varint: 1)
        badStatus.write(fixed: UInt16(42))
        #expect(throws: DecodeError.self) { try RelayCodec.decodeResponse(badStatus.bytes + [0, 0], limits: .standard) }
    }

    /// Random bytes and random corruptions of valid payloads decode or throw; they never trap.
    @Test(arguments: TestSeed.seeds(count: 4, base: 0x5E1A7))
    func arbitraryBytesNeverTrap(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let valid = RelayCodec.encode(request: NodeRelayTests.produce(String(repeating: "r", count: 40)), callID: 77)
        for _ in 0..<2_000 {
            var bytes = valid
            for _ in 0..<(1 + random.next() % 4) {
                bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next())
            }
            _ = try? RelayCodec.decodeRequest(bytes, limits: .standard)
            _ = try? RelayCodec.decodeResponse(bytes, limits: .standard)
            let noise = (0..<Int(random.next() % 64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            _ = try? RelayCodec.decodeRequest(noise, limits: .standard)
            _ = try? RelayCodec.decodeResponse(noise, limits: .standard)
        }
    }
}
