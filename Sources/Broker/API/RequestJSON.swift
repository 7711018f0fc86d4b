import HTTPServer
import MOMCore

/// Small helpers to read request bodies as JSON with clear 400s.
enum RequestJSON {
    /// How deep a request body may nest (the streaming produce pass applies the same bound).
    static let depthMax = 32

    static func object(_ request: HTTPRequest, limits: Limits) throws(HTTPError) -> JSONValue {
        guard !request.body.isEmpty else { throw .badRequest("the request needs a JSON body") }
        let value: JSONValue
        do {
            value = try JSONValue(parsing: request.body, limits: JSONLimits(depthMax: depthMax, bytesMax: limits.requestBodyBytesMax))
        } catch {
            throw .badRequest("the body is not valid JSON: \(error)")
        }
        guard case .object = value else { throw .badRequest("the body must be a JSON object") }
        return value
    }

    static func string(_ value: JSONValue, _ key: String, required: Bool = true) throws(HTTPError) -> String? {
        guard let field = value[key], !field.isNull else {
            if required { throw .badRequest("'\(key)' is required") }
            return nil
        }
        guard let text = field.stringValue else { throw .badRequest("'\(key)' must be a string") }
        return text
    }

    static func integer(_ value: JSONValue, _ key: String, range: ClosedRange<Int64>, default fallback: Int64? = nil) throws(HTTPError) -> Int64? {
        guard let field = value[key], !field.isNull else { return fallback }
        guard let number = field.int64Value else { throw .badRequest("'\(key)' must be an integer") }
        guard range.contains(number) else { throw .badRequest("'\(key)' must be between \(range.lowerBound) and \(range.upperBound)") }
        return number
    }

    /// Bytes given either as UTF-8 text under `key` or as base64 under `key_base64`.
    static func bytes(_ value: JSONValue, _ key: String, required: Bool) throws(HTTPError) -> [UInt8]? {
        if let text = value[key], !text.isNull {
            guard let string = text.stringValue else { throw .badRequest("'\(key)' must be a string; use '\(key)_base64' for binary") }
            return Array(string.utf8)
        }
        if let encoded = value["\(key)_base64"], !encoded.isNull {
            guard let string = encoded.stringValue else { throw .badRequest("'\(key)_base64' must be a base64 string") }
            do { return try Base64.decode(string) } catch { throw .badRequest("'\(key)_base64' is not valid base64: \(error)") }
        }
        if required { throw .badRequest("each record needs '\(key)' (UTF-8 text) or '\(key)_base64'") }
        return nil
    }

    /// Record headers: an object of string → string.
    static func headers(_ value: JSONValue, limits: Limits) throws(HTTPError) -> [Header] {
        guard let field = value["headers"], !field.isNull else { return [] }
        guard let pairs = field.objectValue else { throw .badRequest("'headers' must be an object of strings") }
        guard pairs.count <= limits.recordHeadersMax else { throw .badRequest("at most \(limits.recordHeadersMax) headers per record") }
        var headers: [Header] = []
        for (name, text) in pairs {
            guard let string = text.stringValue else { throw .badRequest("header '\(name)' must be a string") }
            guard !name.isEmpty, name.utf8.count <= limits.recordHeaderNameBytesMax else {
                throw .badRequest("header names must be 1…\(limits.recordHeaderNameBytesMax) bytes")
            }
            headers.append(Header(name, Array(string.utf8)))
        }
        return headers
    }
}
