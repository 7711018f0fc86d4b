import HTTPServer
import MOMCore

/// The HTTP/1.1 request parser, driven the way the server's connection drives it: bytes arrive
/// in reads of any size, and unconsumed bytes are passed again with what arrives next.
///
/// Oracles: generated (pipelined) requests come back equal; any input ends in requests, a wait,
/// or a typed `HTTPParseError`, never consuming more than it was given or nothing at all; and
/// the outcome does not depend on how the bytes were split into reads (differential check of
/// byte-at-a-time style reads against one read of everything).
struct HTTPParserFuzzTarget: FuzzTarget {
    /// Small limits, so mutations reach every limit check.
    static let limits = HTTPParserLimits(headerBytesMax: 1_024, bodyBytesMax: 4_096, headerFieldsMax: 16)
    let mutator = ByteMutator(lengthMax: 8 << 10)

    /// What a byte stream parsed into.
    struct Outcome: Equatable {
        var requests: [ParsedRequest] = []
        /// The failure that ended the stream, if any.
        var failure: HTTPParseError?
    }

    /// The parts of a request the parser produces.
    struct ParsedRequest: Equatable {
        var method: HTTPMethod
        var path: String
        var rawQuery: String?
        var headers: [String]
        var body: [UInt8]
        var isHTTP11: Bool

        init(_ request: HTTPRequest) {
            method = request.method
            path = request.path
            rawQuery = request.rawQuery
            headers = request.headers.map { "\($0.name): \($0.value)" }
            body = request.body
            isHTTP11 = request.isHTTP11
        }
    }

    func run(random: inout SeededRandom) throws(FuzzFinding) {
        let requests = (0...random.uniform(below: 3)).map { _ in HTTPParserFuzzTarget.request(&random) }
        let stream = requests.reduce(into: [UInt8]()) { $0 += $1.bytes }
        let input: [UInt8]
        let shape = InputShape.draw(&random)
        switch shape {
        case .valid: input = stream
        case .mutated: input = mutator.mutate(stream, other: HTTPParserFuzzTarget.request(&random).bytes, random: &random)
        case .random: input = mutator.randomBytes(random: &random)
        }
        let whole = try parse(input, readBytesMax: input.count, random: &random)
        let pieces = try parse(input, readBytesMax: 1 + Int(random.uniform(below: 64)), random: &random)
        guard HTTPParserFuzzTarget.sameOutcome(whole, pieces) else {
            throw FuzzFinding("outcome depends on read sizes: one read gave \(whole), small reads gave \(pieces)")
        }
        if shape == .valid {
            let expected = requests.map(\.parsed)
            guard whole.failure == nil, whole.requests == expected else {
                throw FuzzFinding("valid requests \(expected) parsed as \(whole)")
            }
        }
    }

    /// Parses `input` arriving in reads of at most `readBytesMax` bytes.
    private func parse(_ input: [UInt8], readBytesMax: Int, random: inout SeededRandom) throws(FuzzFinding) -> Outcome {
        var parser = HTTPRequestParser(limits: HTTPParserFuzzTarget.limits)
        var outcome = Outcome()
        var start = 0
        var received = 0
        // Each pass either consumes a request (at least one byte) or waits for a read.
        for _ in 0...(2 * input.count + 2) {
            let result = input.withUnsafeBufferPointer { parser.parse(UnsafeBufferPointer(rebasing: $0[start..<received])) }
            switch result {
            case .request(let request, let consumed):
                guard consumed > 0, consumed <= received - start else {
                    throw FuzzFinding("parser consumed \(consumed) of \(received - start) bytes")
                }
                outcome.requests.append(ParsedRequest(request))
                start += consumed
            case .failure(let error):
                outcome.failure = error
                return outcome
            case .incomplete:
                guard received < input.count else { return outcome }
                received = min(input.count, received + 1 + Int(random.uniform(below: UInt64(readBytesMax))))
            }
        }
        throw FuzzFinding("parser made no progress on \(input.count) bytes")
    }

    /// Equal, except that a head over the limit may be reported as either of the two "too
    /// large" errors depending on whether its end had arrived (both close with a 4xx).
    static func sameOutcome(_ first: Outcome, _ second: Outcome) -> Bool {
        guard first.requests == second.requests else { return false }
        let tooLarge: Set<HTTPParseError> = [.requestLineTooLong, .headerSectionTooLarge]
        if let one = first.failure, let two = second.failure, tooLarge.contains(one) && tooLarge.contains(two) { return true }
        return first.failure == second.failure
    }

    /// A generated request: its bytes and what the parser must make of them.
    struct GeneratedRequest {
        var bytes: [UInt8]
        var parsed: ParsedRequest
    }

    static func request(_ random: inout SeededRandom) -> GeneratedRequest {
        let methods: [HTTPMethod] = [.get, .post, .put, .delete, .head, .patch]
        let method = methods[Int(random.uniform(below: UInt64(methods.count)))]
        let path = "/" + (0...random.uniform(below: 4)).map { _ in token(&random, alphabet: "abcdefghijklmnopqrstuvwxyz0123456789-._~") }.joined(separator: "/")
        let query = random.chance(1, in: 2) ? token(&random, alphabet: "abc=&123%20+") : nil
        var headers: [(String, String)] = [("Host", "127.0.0.1:8080")]
        for _ in 0..<random.uniform(below: 5) {
            headers.append(("X-" + token(&random, alphabet: "abcdefghij-"), token(&random, alphabet: "abc xyz/=;,\"0123")))
        }
        let body = method == .get || method == .head ? [] : random.bytes(random.length(max: 600))
        if !body.isEmpty || random.chance(1, in: 3) { headers.append(("Content-Length", String(body.count))) }
        var text = "\(method.rawValue) \(path)\(query.map { "?" + $0 } ?? "") HTTP/1.1\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        var request = HTTPRequest(method: method, target: path + (query.map { "?" + $0 } ?? ""), headers: HTTPHeaders(headers), body: body)
        request.isHTTP11 = true
        var parsed = ParsedRequest(request)
        // The parser trims optional whitespace around field values.
        parsed.headers = headers.map { "\($0.0): \(trimmed($0.1))" }
        return GeneratedRequest(bytes: Array(text.utf8) + body, parsed: parsed)
    }

    static func token(_ random: inout SeededRandom, alphabet: String) -> String {
        let characters = Array(alphabet)
        let length = 1 + Int(random.uniform(below: 12))
        return String((0..<length).map { _ in characters[Int(random.uniform(below: UInt64(characters.count)))] })
    }

    static func trimmed(_ value: String) -> String {
        var characters = Substring(value)
        while characters.first == " " { characters.removeFirst() }
        while characters.last == " " { characters.removeLast() }
        return String(characters)
    }
}
