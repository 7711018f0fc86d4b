import HTTPServer
import MOMCore
import Testing
@testable import Broker

/// `application/vnd.mom.batch` on the produce and fetch routes, and as the forwarded form.
@Suite struct BinaryBatchRouteTests {
    static func call(_ router: Router, _ method: HTTPMethod, _ target: String, body: [UInt8], headers: [(String, String)]) async -> HTTPResponse? {
        var requestHeaders = HTTPHeaders()
        for (name, value) in headers { requestHeaders.set(name: name, value: value) }
        let box = ResponseSlot()
        router.handle(HTTPRequest(method: method, target: target, headers: requestHeaders, body: body), responder: HTTPResponder { box.put($0) })
        return await box.take(timeoutMilliseconds: 30_000)
    }

    @Test func producesAndFetchesBinaryBatches() async throws {
        let (node, router) = try await SingleNodeTests.startNode()
        #expect(await SingleNodeTests.waitForMeta(node))
        #expect(await SingleNodeTests.call(router, .post, "/v1/topics", #"{"name":"bin","partitions":2,"replication_factor":1}"#).0 == 201)
        #expect(await SingleNodeTests.waitForLeaders(node, count: 3))

        let value = (0...255).map { UInt8($0) }
        let batch = RecordBatchFormat.Batch(kind: .produce, records: [
            .init(partition: 1, key: [0xFF, 0], value: value, headers: [("h", Array("v".utf8))]),
            .init(partition: 1, value: []),
        ])
        let contentType = [("Content-Type", RecordBatchFormat.mediaType)]
        let produced = try #require(await Self.call(router, .post, "/v1/topics/bin/records", body: RecordBatchFormat.encode(batch), headers: contentType))
        #expect(produced.status.code == 200, "\(String(decoding: produced.body, as: UTF8.self))")
        let offsets = try #require(try JSONValue(parsing: produced.body)["offsets"]?.arrayValue)
        #expect(offsets.map { $0["partition"]?.int64Value } == [1, 1])

        let fetched = try #require(await Self.call(router, .get, "/v1/topics/bin/partitions/1/records?offset=0", body: [], headers: [("Accept", RecordBatchFormat.mediaType)]))
        #expect(fetched.status.code == 200)
        #expect(fetched.headers["Content-Type"] == RecordBatchFormat.mediaType)
        let page = try RecordBatchFormat.decode(fetched.body, limits: .init(.standard))
        #expect(page.kind == .fetch)
        #expect(page.records.map(\.value) == [value, []])
        #expect(page.records.first?.key == [0xFF, 0])
        #expect(page.records.first?.headers.first?.name == "h")
        #expect(page.records.allSatisfy { $0.offset != nil && $0.timestampMilliseconds != nil })
        #expect(page.fetch?.nextOffset == (page.records.last?.offset ?? 0) + 1)
        // The head names the next offset too, for clients that pipeline their fetches.
        #expect(fetched.headers[FetchHeaders.nextOffset] == page.fetch.map { String($0.nextOffset) })

        // Without the Accept header the same page is JSON, with the same head.
        let plain = try #require(await Self.call(router, .get, "/v1/topics/bin/partitions/1/records?offset=0", body: [], headers: []))
        let json = try JSONValue(parsing: plain.body)
        #expect(plain.status.code == 200 && json["records"]?.arrayValue?.count == 2)
        #expect(plain.headers["Content-Type"] == "application/json")
        #expect(plain.headers[FetchHeaders.nextOffset] == json["next_offset"]?.uint64Value.map { String($0) })
        #expect(plain.headers[FetchHeaders.nextOffset] == page.fetch.map { String($0.nextOffset) })
    }

    @Test func malformedBinaryBodiesAre400() async throws {
        let (node, router) = try await SingleNodeTests.startNode()
        #expect(await SingleNodeTests.waitForMeta(node))
        #expect(await SingleNodeTests.call(router, .post, "/v1/topics", #"{"name":"bad","partitions":1,"replication_factor":1}"#).0 == 201)
        #expect(await SingleNodeTests.waitForLeaders(node, count: 2))
        var corrupt = RecordBatchFormat.encode(.init(kind: .produce, records: [.init(value: Array("hello".utf8))]))
        corrupt[corrupt.count - 3] ^= 0x20
        let bodies: [(String, [UInt8])] = [
            ("not a batch", Array("{\"records\":[]}".utf8)),
            ("bad CRC", corrupt),
            ("empty batch", RecordBatchFormat.encode(.init(kind: .produce, records: []))),
            ("fetch kind", RecordBatchFormat.encode(.init(kind: .fetch, fetch: .init(nextOffset: 0, highWatermark: 0, logStartOffset: 0), records: [.init(value: [1])]))),
            ("partition out of range", RecordBatchFormat.encode(.init(kind: .produce, records: [.init(partition: 5, value: [1])]))),
            ("broker-assigned offset", RecordBatchFormat.encode(.init(kind: .produce, records: [.init(offset: 3, value: [1])]))),
        ]
        for (name, body) in bodies {
            let response = await Self.call(router, .post, "/v1/topics/bad/records", body: body, headers: [("Content-Type", "\(RecordBatchFormat.mediaType); v=1")])
            #expect(response?.status.code == 400, "\(name): \(response.map { String(decoding: $0.body, as: UTF8.self) } ?? "no answer")")
        }
    }

    @Test(arguments: [
        ("application/vnd.mom.batch", true), (" Application/VND.MOM.Batch ; v=1", true), ("application/vnd.mom.batch\t", true),
        ("application/json", false), ("application/vnd.mom.batchx", false), ("", false), ("application/vnd.mom.batc", false),
    ])
    func recognizesTheMediaTypeWithParametersAndAnyCase(value: String, expected: Bool) {
        #expect(ProduceRequest.isBinaryBatch(value) == expected)
    }

    /// A forwarded share is a binary batch that keeps each record's original position, so the
    /// leader's answer lands in the right slots of the original request.
    @Test func forwardedShareRoundTripsThroughTheBinaryParser() throws {
        let items = [
            ProduceRequest.Item(position: 4, partition: 2, key: [1, 2], value: Array("four".utf8)[...], headers: [Header("a", Array("b".utf8))]),
            ProduceRequest.Item(position: 7, partition: 2, key: nil, value: (0...255).map { UInt8($0) }[...], headers: []),
        ]
        let request = ProduceRequest.partitionRequest(items, topic: "t", partition: 2, producer: (5, 6), headers: HTTPHeaders())
        #expect(request.headers["Content-Type"] == RecordBatchFormat.mediaType)
        #expect(request.target == "/v1/topics/t/partitions/2/records")
        let parsed = try ProduceRequest.parse(request, partitions: 3, roundRobinStart: 0, limits: .standard).forcing(partition: 2)
        #expect(parsed.producer?.id == 5 && parsed.producer?.sequence == 6)
        #expect(parsed.items.map(\.position) == [4, 7])
        #expect(parsed.items.map(\.value) == items.map(\.value))
        #expect(parsed.items.map(\.key) == items.map(\.key))
        #expect(parsed.items.map(\.headers) == items.map(\.headers))
    }
}
