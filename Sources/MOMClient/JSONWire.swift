import Foundation

/// JSON encode/decode helpers that map failures to `MOMClientError`. Why explicit CodingKeys
/// everywhere instead of a snake-case strategy: Foundation's key strategies also rewrite
/// dictionary keys, which would corrupt record headers such as `trace_id`.
enum JSONWire {
    static func encode<Value: Encodable>(_ value: Value) throws(MOMClientError) -> [UInt8] {
        do { return Array(try JSONEncoder().encode(value)) } catch {
            throw .invalidArgument("cannot encode the request as JSON: \(error)")
        }
    }

    static func decode<Value: Decodable>(_ bytes: [UInt8]) throws(MOMClientError) -> Value {
        do { return try JSONDecoder().decode(Value.self, from: Data(bytes)) } catch {
            let excerpt = String(decoding: bytes.prefix(120), as: UTF8.self)
            throw .decoding("\(Value.self) expected: \(error) in '\(excerpt)'")
        }
    }
}

/// Bytes travel as a UTF-8 string when they are valid UTF-8, else as base64 (the contract's
/// `value` / `value_base64` pair). Why automatic: callers think in bytes; the wire choice is ours.
enum BytesField {
    static func encode<Keys: CodingKey>(
        _ bytes: [UInt8]?, into container: inout KeyedEncodingContainer<Keys>, text: Keys, base64: Keys
    ) throws {
        guard let bytes else { return }
        if let string = String(validating: bytes, as: UTF8.self) {
            try container.encode(string, forKey: text)
        } else {
            try container.encode(Data(bytes).base64EncodedString(), forKey: base64)
        }
    }

    static func decode<Keys: CodingKey>(
        from container: KeyedDecodingContainer<Keys>, text: Keys, base64: Keys
    ) throws -> [UInt8]? {
        if let string = try container.decodeIfPresent(String.self, forKey: text) { return Array(string.utf8) }
        guard let encoded = try container.decodeIfPresent(String.self, forKey: base64) else { return nil }
        guard let data = Data(base64Encoded: encoded) else {
            throw DecodingError.dataCorruptedError(forKey: base64, in: container, debugDescription: "not valid base64")
        }
        return Array(data)
    }
}

struct ErrorEnvelope: Decodable {
    struct Body: Decodable {
        var code: String
        var message: String
    }
    var error: Body
}

struct TokenRequest: Encodable {
    var username: String
    var password: String
}

struct TokenResponse: Decodable {
    var token: String
    var expiresIn: Int64
    enum CodingKeys: String, CodingKey {
        case token
        case expiresIn = "expires_in"
    }
}
