import MOMClient
import MOMCore
import Testing
@testable import momctl

@Suite("momctl argument parsing")
struct ParsingTests {
    @Test("global options before the command, servers repeatable and comma-separated")
    func globalOptions() throws {
        let (options, rest) = try GlobalOptions.split([
            "--server", "http://a:1,b:2", "--server=c:3", "--token-file", "/t", "--output", "json", "--user", "u",
            "--password-stdin", "topic", "list", "--output", "table",
        ])
        #expect(options.servers == ["http://a:1", "b:2", "c:3"])
        #expect(options.tokenFile == "/t")
        #expect(options.output == "json")
        #expect(options.user == "u")
        #expect(options.passwordFromStandardInput)
        #expect(rest == ["topic", "list", "--output", "table"])
    }

    @Test("a value after the command overrides the one before it")
    func merging() throws {
        let (options, _) = try GlobalOptions.split(["--server", "a:1", "--output", "json", "topic"])
        let parsed = try ParsedArguments(
            ["--server", "b:2", "--output", "table"],
            options: GlobalOptions.specifications + [OptionSpecification(name: "output", takesValue: true)])
        let merged = try options.merged(with: parsed)
        #expect(merged.servers == ["b:2"])
        #expect(merged.output == "table")
    }

    @Test("global option errors are usage errors", arguments: [
        ["--bogus", "topic"], ["--server"], ["--server", "a:1,,b:2", "topic"], ["--password-stdin=yes", "topic"],
    ])
    func globalErrors(arguments: [String]) {
        #expect(throws: UsageError.self) { try GlobalOptions.split(arguments) }
    }

    @Test("integers are checked against their range")
    func integers() throws {
        let options = [OptionSpecification(name: "partitions", takesValue: true)]
        #expect(try ParsedArguments(["--partitions", "3"], options: options).integer("partitions", in: 1...1024) == 3)
        #expect(try ParsedArguments([], options: options).integer("partitions", in: 1...1024) == nil)
        for bad in ["0", "1025", "x", "-1", ""] {
            let parsed = try ParsedArguments(["--partitions", bad], options: options)
            #expect(throws: UsageError.self) { try parsed.integer("partitions", in: 1...1024) }
        }
    }

    @Test("positional arguments: exactly the named ones")
    func positionals() throws {
        #expect(try ParsedArguments(["t", "s"], options: []).exactly(["topic", "name"]) == ["t", "s"])
        #expect(throws: UsageError.self) { try ParsedArguments(["t"], options: []).exactly(["topic", "name"]) }
        #expect(throws: UsageError.self) { try ParsedArguments(["t", "s", "x"], options: []).exactly(["topic", "name"]) }
    }

    @Test("offset specifications parse and resolve against the partition's bounds")
    func offsets() throws {
        #expect(try OffsetSpecification.parse("earliest") == .earliest)
        #expect(try OffsetSpecification.parse("latest") == .latest)
        #expect(try OffsetSpecification.parse("42") == .exact(Offset(42)))
        for bad in ["", "-1", "x", "1.5", "٣", "earliest2"] {
            #expect(throws: UsageError.self) { try OffsetSpecification.parse(bad) }
        }
        let start = Offset(10)
        let end = Offset(20)
        #expect(try OffsetSpecification.earliest.resolve(logStart: start, highWatermark: end) == start)
        #expect(try OffsetSpecification.latest.resolve(logStart: start, highWatermark: end) == end)
        #expect(try OffsetSpecification.exact(Offset(15)).resolve(logStart: start, highWatermark: end) == Offset(15))
        #expect(try OffsetSpecification.exact(Offset(20)).resolve(logStart: start, highWatermark: end) == Offset(20))
        #expect(throws: RuntimeFailure.self) { try OffsetSpecification.exact(Offset(9)).resolve(logStart: start, highWatermark: end) }
        #expect(throws: RuntimeFailure.self) { try OffsetSpecification.exact(Offset(21)).resolve(logStart: start, highWatermark: end) }
    }

    @Test("commit offsets P:OFFSET lists")
    func partitionOffsets() throws {
        let positions = try PartitionOffsets.parse("0:120,1:98")
        #expect(positions == [RecordPosition(partition: 0, offset: Offset(120)), RecordPosition(partition: 1, offset: Offset(98))])
        for bad in ["", "0", "0:", ":1", "0:1,0:2", "a:1", "0:-1", "-1:3", "0:1,"] {
            #expect(throws: UsageError.self) { try PartitionOffsets.parse(bad) }
        }
    }

    @Test("output format: table by default, json, anything else refused")
    func outputFormat() throws {
        #expect(try OutputFormat.parse(nil) == .table)
        #expect(try OutputFormat.parse("json") == .json)
        #expect(throws: UsageError.self) { try OutputFormat.parse("yaml") }
    }
}
