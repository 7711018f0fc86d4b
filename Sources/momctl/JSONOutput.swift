import Foundation

/// `--output json`: one JSON document per read command (or one per line for streams such as
/// `consume`), keys sorted so output is stable for scripts and tests.
enum JSONOutput {
    /// `value` is built from dictionaries, arrays, strings, numbers, booleans and NSNull.
    static func render(_ value: Any) -> String {
        guard JSONSerialization.isValidJSONObject(value),
              let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes])
        else {
            // Every caller builds its value from the types above, so this is a programmer error.
            preconditionFailure("momctl built a value that is not JSON: \(type(of: value))")
        }
        return String(decoding: data, as: UTF8.self)
    }

    /// Bytes as the API sends them: `value` when UTF-8, else `value_base64` (same for keys).
    static func bytesFields(_ bytes: [UInt8]?, text: String, base64: String) -> [String: Any] {
        guard let bytes else { return [text: NSNull()] }
        if let string = String(validating: bytes, as: UTF8.self) { return [text: string] }
        return [base64: Data(bytes).base64EncodedString()]
    }

    /// Bytes for a table or a plain line: the text when UTF-8, else "base64:…".
    static func printable(_ bytes: [UInt8]) -> String {
        if let string = String(validating: bytes, as: UTF8.self) { return string }
        return "base64:" + Data(bytes).base64EncodedString()
    }
}

extension Invocation {
    /// Prints a table or the JSON document, whichever `--output` asked for.
    func print(table: @autoclosure () -> Table, json: @autoclosure () -> Any) {
        switch output {
        case .table: console.writeOutput(table().render())
        case .json: console.output(JSONOutput.render(json()))
        }
    }
}

