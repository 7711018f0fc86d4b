import Foundation

/// Reads and writes histories as JSON lines: one `HistoryEvent` object per line, so a crashed
/// load generator still leaves every line it finished, and `grep` works on a history.
public enum HistoryFile {
    /// Why a history could not be read; the message names the line.
    public struct DecodeError: Error, CustomStringConvertible, Equatable {
        public let line: Int
        public let reason: String
        public var description: String { "history line \(line): \(reason)" }
    }

    /// A single event as one line of JSON, without the newline.
    public static func encodeLine(_ event: HistoryEvent) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding a struct of strings, integers and arrays of them cannot fail.
        return (try? [UInt8](encoder.encode(event))) ?? []
    }

    /// Every event of `bytes` (JSON lines; blank lines are skipped). A half-written last line
    /// (the writer was killed mid-line) is tolerated; any other bad line throws.
    public static func decode(_ bytes: [UInt8]) throws(DecodeError) -> [HistoryEvent] {
        let decoder = JSONDecoder()
        var events: [HistoryEvent] = []
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        for (number, line) in lines.enumerated() where !line.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) {
            do {
                events.append(try decoder.decode(HistoryEvent.self, from: Data(line)))
            } catch {
                let isTornTail = number == lines.count - 1
                if isTornTail { break }
                throw DecodeError(line: number + 1, reason: "\(error)")
            }
        }
        return events
    }

    /// Reads and decodes every file named, in order, as one history.
    public static func read(paths: [String]) throws -> [HistoryEvent] {
        var events: [HistoryEvent] = []
        for path in paths {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw DecodeError(line: 0, reason: "cannot read \(path)")
            }
            events += try decode([UInt8](data))
        }
        return events
    }
}
