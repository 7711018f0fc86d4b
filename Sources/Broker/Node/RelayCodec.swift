import HTTPServer
import MOMCore
import Transport

/// The node link's two relay channels. Their ids sit just under `GroupID.nodeLevel`, far above
/// any partition group (ids are allocated upward from 1), so the transport's receive handler
/// tells them from Raft traffic by the envelope's group alone.
enum RelayChannel {
    /// A forwarded REST request, on its way to the node that serves it.
    static let request = GroupID(UInt64.max - 1)
    /// Its answer, on its way back to the node that forwarded it.
    static let response = GroupID(UInt64.max - 2)
}

/// One REST request or response carried over the node link instead of a second HTTP
/// connection. The payload is the request as the forwarding node would have sent it: method,
/// target, header fields and body, behind the id the answer is matched by. Decoding is total:
/// a malformed payload throws `DecodeError` and is dropped (its caller times out).
enum RelayCodec {
    /// Bounds beyond `Limits`: a target or header field longer than the HTTP front accepts
    /// in a whole header section can't have come from it.
    static let headerFieldsMax = 128

    static func encode(request: HTTPRequest, callID: UInt64) -> [UInt8] {
        var writer = BinaryWriter(capacity: 64 + request.target.utf8.count + request.body.count)
        writer.write(varint: callID)
        writer.write(UInt8(HTTPMethod.allCases.firstIndex(of: request.method)!))
        writer.write(string: request.target)
        write(request.headers, to: &writer)
        writer.write(lengthPrefixed: request.body)
        return writer.bytes
    }

    static func decodeRequest(_ payload: [UInt8], limits: Limits) throws -> (callID: UInt64, request: HTTPRequest) {
        try decode(payload) { reader in
            let methodIndex = Int(try reader.readByte())
            guard methodIndex < HTTPMethod.allCases.count else { throw DecodeError.invalid("relay request method \(methodIndex)") }
            let target = try reader.readString(limit: limits.requestHeaderBytesMax)
            guard target.hasPrefix("/") else { throw DecodeError.invalid("relay request target must start with '/'") }
            let headers = try readHeaders(&reader, limits: limits)
            let body = Array(try reader.readLengthPrefixed(limit: limits.requestBodyBytesMax))
            return HTTPRequest(method: HTTPMethod.allCases[methodIndex], target: target, headers: headers, body: body)
        }
    }

    static func encode(response: HTTPResponse, callID: UInt64) -> [UInt8] {
        var writer = BinaryWriter(capacity: 64 + response.body.count)
        writer.write(varint: callID)
        writer.write(fixed: UInt16(response.status.code))
        write(response.headers, to: &writer)
        writer.write(lengthPrefixed: response.body)
        return writer.bytes
    }

    static func decodeResponse(_ payload: [UInt8], limits: Limits) throws -> (callID: UInt64, response: HTTPResponse) {
        try decode(payload) { reader in
            let code = Int(try reader.read(fixed: UInt16.self))
            guard (100...999).contains(code) else { throw DecodeError.invalid("relay response status \(code)") }
            let headers = try readHeaders(&reader, limits: limits)
            let body = Array(try reader.readLengthPrefixed(limit: limits.frameBytesMax))
            return HTTPResponse(status: HTTPStatus(code: code), headers: headers, body: body)
        }
    }

    /// The call id, then `body`, which must consume the rest of the payload exactly.
    private static func decode<Message>(
        _ payload: [UInt8], _ body: (inout BinaryReader) throws -> Message
    ) throws -> (UInt64, Message) {
        try payload.withUnsafeBytes { raw in
            var reader = BinaryReader(raw)
            let callID = try reader.readVarint()
            let message = try body(&reader)
            guard reader.isAtEnd else { throw DecodeError.invalid("trailing bytes after a relay message") }
            return (callID, message)
        }
    }

    private static func write(_ headers: HTTPHeaders, to writer: inout BinaryWriter) {
        writer.write(varint: UInt64(headers.count))
        // The raw bytes, without making strings: `readString` decodes them as the `String`
        // accessors would (invalid UTF-8 repaired), so the far side reads the same fields.
        headers.forEachField { name, value in
            writer.write(lengthPrefixed: name)
            writer.write(lengthPrefixed: value)
        }
    }

    private static func readHeaders(_ reader: inout BinaryReader, limits: Limits) throws -> HTTPHeaders {
        let count = try reader.readVarint()
        guard count <= UInt64(headerFieldsMax) else { throw DecodeError.lengthTooLarge(Int(clamping: count), limit: headerFieldsMax) }
        var headers = HTTPHeaders()
        for _ in 0..<count {
            let name = try reader.readString(limit: limits.requestHeaderBytesMax)
            let value = try reader.readString(limit: limits.requestHeaderBytesMax)
            headers.add(name: name, value: value)
        }
        return headers
    }
}
