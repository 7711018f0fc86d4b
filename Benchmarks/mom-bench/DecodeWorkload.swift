import Broker
import Glibc
import HTTPServer
import MOMCore

/// `mom-bench decode --format json [--shape plain|keyed|base64] [--decoder route|tree] [--messages N]`:
/// decodes N produce bodies (16 records of 1 KiB printable ASCII values each) in process, with
/// the route's decoder (the streaming JSON pass) or the JSON tree parser it replaced.
///
/// Why no timing: the machine is shared, so wall time says little. Run it under
/// `valgrind --tool=callgrind` at two N and divide the difference in instructions by the
/// difference in N (docs/performance.md, "JSON produce bodies without a tree").
enum DecodeWorkload {
    static let usageText = """
        usage: mom-bench decode --format json [--shape plain|keyed|base64] [--decoder route|tree] [--messages N]
        """
    static let recordsPerBody = 16
    static let valueBytes = 1_024
    static let partitions = 8

    static func main(_ arguments: [String]) -> Int32 {
        let flags: [String: String]
        do {
            flags = try SubcommandFlags.parse(arguments, allowed: ["--format", "--shape", "--decoder", "--messages"])
        } catch {
            return usage(error.message)
        }
        guard flags["--format"] ?? "json" == "json" else { return usage("only --format json is measured here") }
        guard let messages = Int(flags["--messages"] ?? "1000"), messages > 0 else { return usage("--messages needs a positive number") }
        let decoder: ProduceBodyCodec.JSONDecoder
        switch flags["--decoder"] ?? "route" {
        case "route": decoder = .route
        case "tree": decoder = .tree
        default: return usage("--decoder is route or tree")
        }
        guard let body = body(shape: flags["--shape"] ?? "plain") else { return usage("--shape is plain, keyed or base64") }
        var records = 0
        for _ in 0..<messages {
            do {
                records += try ProduceBodyCodec.recordCount(body, partitions: partitions, limits: .standard, json: decoder)
            } catch {
                print("mom-bench decode: the body was refused: \(error)")
                return 1
            }
        }
        print("decode \(flags["--shape"] ?? "plain") with \(flags["--decoder"] ?? "route"): \(messages) bodies of \(body.count) bytes, \(records) records")
        return 0
    }

    /// The body of a shape: values only (what `mom-bench produce` sends); with a key and two
    /// headers per record; or values as base64.
    static func body(shape: String) -> [UInt8]? {
        let value = PayloadAlphabet.value(size: valueBytes, seed: 0)
        var writer = JSONWriter(reservingCapacity: recordsPerBody * (valueBytes * 2 + 128))
        writer.beginObject()
        writer.key("records")
        writer.beginArray()
        for position in 0..<recordsPerBody {
            writer.beginObject()
            switch shape {
            case "plain":
                writer.key("value"); writer.utf8String(value)
            case "keyed":
                writer.key("key"); writer.string("user-\(1000 + position)")
                writer.key("value"); writer.utf8String(value)
                writer.key("headers")
                writer.beginObject()
                writer.key("trace-id"); writer.string("4bf92f3577b34da6a3ce929d0e0e\(4700 + position)")
                writer.key("source"); writer.string("mom-bench")
                writer.endObject()
            case "base64":
                writer.key("value_base64"); writer.base64String(value)
            default:
                return nil
            }
            writer.endObject()
        }
        writer.endArray()
        writer.endObject()
        return writer.bytes
    }

    static func usage(_ problem: String) -> Int32 {
        print("mom-bench: \(problem)\n\(usageText)")
        return 2
    }
}
