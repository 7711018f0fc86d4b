/// A plain-text table: a header row and aligned columns separated by two spaces, the way
/// `kubectl get` prints. Pure, so layouts are tested exactly.
struct Table: Sendable, Equatable {
    var headers: [String]
    var rows: [[String]] = []

    /// The longest cell printed; longer text is cut with "…" so one odd value cannot make a
    /// table unreadable. (JSON output is never cut.)
    static let cellCharactersMaximum = 60

    init(_ headers: [String]) { self.headers = headers }

    mutating func append(_ row: [String]) {
        precondition(row.count == headers.count, "a table row has \(row.count) cells for \(headers.count) columns")
        rows.append(row)
    }

    /// The rendered table, every line ending in "\n"; trailing spaces are trimmed.
    func render() -> String {
        let cells = ([headers] + rows).map { $0.map(Self.clip) }
        var widths = [Int](repeating: 0, count: headers.count)
        for row in cells {
            for (column, cell) in row.enumerated() { widths[column] = max(widths[column], cell.count) }
        }
        var text = ""
        for row in cells {
            var line = ""
            for (column, cell) in row.enumerated() {
                line += cell
                if column < row.count - 1 { line += String(repeating: " ", count: widths[column] - cell.count + 2) }
            }
            while line.hasSuffix(" ") { line.removeLast() }
            text += line + "\n"
        }
        return text
    }

    /// Control characters become '?' (a value must not move the cursor), and long text is cut.
    static func clip(_ text: String) -> String {
        var result = ""
        var count = 0
        for character in text {
            if count == cellCharactersMaximum - 1 {
                return result + "…"
            }
            let isControl = character.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
            result.append(isControl ? "?" : character)
            count += 1
        }
        return result
    }
}
