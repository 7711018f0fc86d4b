import HTTPServer
import MOMCore

/// The produce body (`POST /v1/topics/{t}/records`) as bytes in and records out, exactly as the
/// route parses it (`ProduceRequest.parse`, JSON or binary by Content-Type), and the encoding a
/// node uses when it forwards a partition's share to its leader.
///
/// Why public: the produce body is the broker's largest untrusted input, and the fuzzer
/// (Sources/Fuzzing) must drive the very code the route runs, in release builds too, where
/// `@testable import` is not available. Nothing else should need it.
public enum ProduceBodyCodec {
    /// One decoded record, with its partition resolved.
    public struct Record: Equatable, Sendable {
        /// Its position in the client's request (or in the original request, when forwarded).
        public var position: Int
        /// The partition it goes to.
        public var partition: Int
        /// The key, when the record has one.
        public var key: [UInt8]?
        /// The value.
        public var value: [UInt8]
        /// The headers, in body order.
        public var headers: [HeaderField]

        /// A record as the forwarder writes it.
        public init(position: Int, partition: Int, key: [UInt8]?, value: [UInt8], headers: [HeaderField]) {
            self.position = position
            self.partition = partition
            self.key = key
            self.value = value
            self.headers = headers
        }
    }

    /// A record header: a name and opaque bytes.
    public struct HeaderField: Equatable, Sendable {
        /// The header's name.
        public var name: String
        /// The header's value.
        public var value: [UInt8]

        /// A header.
        public init(name: String, value: [UInt8]) {
            self.name = name
            self.value = value
        }
    }

    /// A decoded body.
    public struct Body: Equatable, Sendable {
        /// The records, in request order.
        public var records: [Record]
        /// The idempotent producer's identity, when the body carries one.
        public var producerID: UInt64?
        /// The producer's sequence number, with `producerID`.
        public var sequence: UInt64?

        /// A body (for comparing with a decoded one).
        public init(records: [Record], producerID: UInt64?, sequence: UInt64?) {
            self.records = records
            self.producerID = producerID
            self.sequence = sequence
        }
    }

    /// The media type of the bodies `encodeForwarded` makes (pass it to `decode` for them).
    public static let forwardedContentType = RecordBatchFormat.mediaType

    /// Which JSON decoder runs: the route's (the streaming pass, the tree parser for what it
    /// leaves) or the tree parser alone, the oracle the streaming pass must agree with.
    public enum JSONDecoder: Sendable {
        case route
        case tree
    }

    /// Parses `body`, sent with `contentType` (JSON when nil), for a topic with `partitions`
    /// partitions; throws the 4xx the route answers.
    public static func decode(
        _ body: [UInt8], contentType: String? = nil, partitions: Int, limits: Limits, json: JSONDecoder = .route
    ) throws(HTTPError) -> Body {
        makeBody(try parse(body, contentType: contentType, partitions: partitions, limits: limits, json: json))
    }

    /// What the streaming JSON pass alone makes of `body`; nil when it leaves the body to the
    /// tree parser (always for errors, sometimes for unusual valid bodies).
    public static func decodeStreaming(_ body: [UInt8], partitions: Int, limits: Limits) -> Body? {
        precondition(partitions > 0, "a topic has at least one partition")
        return ProduceRequest.parseStreaming(body, partitions: partitions, roundRobinStart: 0, limits: limits).map(Self.makeBody)
    }

    /// The number of records in `body`, parsed as `decode` does but without building `Body`:
    /// what `mom-bench decode` measures.
    public static func recordCount(
        _ body: [UInt8], contentType: String? = nil, partitions: Int, limits: Limits, json: JSONDecoder = .route
    ) throws(HTTPError) -> Int {
        try parse(body, contentType: contentType, partitions: partitions, limits: limits, json: json).items.count
    }

    private static func parse(
        _ body: [UInt8], contentType: String?, partitions: Int, limits: Limits, json: JSONDecoder
    ) throws(HTTPError) -> ProduceRequest {
        precondition(partitions > 0, "a topic has at least one partition")
        var headers = HTTPHeaders()
        if let contentType { headers.set(name: "Content-Type", value: contentType) }
        let request = HTTPRequest(method: .post, target: "/v1/topics/fuzz/records", headers: headers, body: body)
        if json == .tree && !ProduceRequest.isBinaryBatch(contentType) {
            return try ProduceRequest.parseTree(request, partitions: partitions, roundRobinStart: 0, limits: limits)
        }
        return try ProduceRequest.parse(request, partitions: partitions, roundRobinStart: 0, limits: limits)
    }

    private static func makeBody(_ parsed: ProduceRequest) -> Body {
        let records = parsed.items.map { item in
            Record(position: item.position, partition: item.partition, key: item.key, value: Array(item.value),
                   headers: item.headers.map { HeaderField(name: $0.name, value: $0.value) })
        }
        return Body(records: records, producerID: parsed.producerID, sequence: parsed.sequence)
    }

    /// The body a node forwards for one partition's share: a binary batch
    /// (`forwardedContentType`), each record's original position kept.
    public static func encodeForwarded(
        _ records: [Record], partition: Int, producer: (id: UInt64, sequence: UInt64)?
    ) -> [UInt8] {
        let items = records.map { record in
            ProduceRequest.Item(position: record.position, partition: partition, key: record.key, value: record.value[...],
                                headers: record.headers.map { Header($0.name, $0.value) })
        }
        return ProduceRequest.partitionRequest(items, topic: "fuzz", partition: partition, producer: producer, headers: HTTPHeaders()).body
    }
}
