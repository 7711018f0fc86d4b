import Foundation
import MOMClient
import MOMCore
import Testing
@testable import momctl

@Suite("momctl tables and formats")
struct FormatTests {
    @Test("a table aligns columns two spaces apart and trims trailing spaces")
    func table() {
        var table = Table(["NAME", "ROLE", "X"])
        table.append(["alice", "admin", ""])
        table.append(["bo", "consumer", "1"])
        #expect(table.render() == """
            NAME   ROLE      X
            alice  admin
            bo     consumer  1

            """)
        #expect(Table(["TOPIC"]).render() == "TOPIC\n")
    }

    @Test("cells: control characters become '?', long text is cut with an ellipsis")
    func clipping() {
        #expect(Table.clip("a\u{1B}[2Jb\nc") == "a?[2Jb?c")
        let long = String(repeating: "x", count: 100)
        let clipped = Table.clip(long)
        #expect(clipped.count == Table.cellCharactersMaximum)
        #expect(clipped.hasSuffix("…"))
        #expect(Table.clip(String(repeating: "y", count: Table.cellCharactersMaximum - 1)).count == Table.cellCharactersMaximum - 1)
    }

    @Test("produce summary names each partition's offsets")
    func produceSummary() {
        var summary = ProduceSummary()
        #expect(summary.text(topic: "t").contains("produced 0 records"))
        summary.add([
            RecordPosition(partition: 2, offset: Offset(7)), RecordPosition(partition: 0, offset: Offset(0)),
            RecordPosition(partition: 0, offset: Offset(1)),
        ])
        #expect(summary.total == 3)
        #expect(summary.text(topic: "orders") == "produced 3 records to topic 'orders': partition 0 offsets 0-1, partition 2 offset 7")
        let json = JSONOutput.render(summary.json(topic: "orders"))
        #expect(json == #"{"partitions":[{"first_offset":0,"last_offset":1,"partition":0,"records":2},{"first_offset":7,"last_offset":7,"partition":2,"records":1}],"records":3,"topic":"orders"}"#)
    }

    @Test("bytes print as text when UTF-8, else base64")
    func bytes() {
        #expect(JSONOutput.printable(Array("héllo".utf8)) == "héllo")
        #expect(JSONOutput.printable([0xFF, 0x00]) == "base64:/wA=")
        #expect(JSONOutput.render(JSONOutput.bytesFields([0xFF], text: "value", base64: "value_base64")) == #"{"value_base64":"/w=="}"#)
        #expect(JSONOutput.render(JSONOutput.bytesFields(nil, text: "key", base64: "key_base64")) == #"{"key":null}"#)
    }

    @Test("the positions to commit after a poll are the next offsets per partition")
    func nextPositions() throws {
        let json = #"{"records":[{"partition":1,"offset":5,"timestamp_ms":0,"value":"a"},{"partition":0,"offset":9,"timestamp_ms":0,"value":"b"},{"partition":1,"offset":7,"timestamp_ms":0,"value":"c"}]}"#
        struct Body: Decodable { var records: [FetchedRecord] }
        let records = try JSONDecoder().decode(Body.self, from: Data(json.utf8)).records
        #expect(PartitionOffsets.nextPositions(after: records) == [
            RecordPosition(partition: 0, offset: Offset(10)), RecordPosition(partition: 1, offset: Offset(8)),
        ])
        #expect(RecordFormat.line(records[0], partition: 1, format: .table) == "a")
        let line = RecordFormat.line(records[0], partition: 1, format: .json)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["offset"] as? Int == 5)
        #expect(object["value"] as? String == "a")
        #expect(object["partition"] as? Int == 1)
    }
}
