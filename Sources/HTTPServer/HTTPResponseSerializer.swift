/// Writes a response (status line, headers, body) into one byte buffer, so the server sends it
/// with one `send` and pipelined responses coalesce into one write.
public enum HTTPResponseSerializer {
    /// Appends `response` to `buffer`.
    /// - Parameters:
    ///   - keepAlive: false adds `Connection: close` (the server closes after sending).
    ///   - isHTTP10: an HTTP/1.0 client that asked for keep-alive needs it echoed.
    ///   - omitBody: true for HEAD, which gets the headers (with the GET length) but no body.
    public static func append(
        _ response: HTTPResponse, keepAlive: Bool, isHTTP10: Bool = false, omitBody: Bool = false,
        to buffer: inout [UInt8]
    ) {
        append(response, keepAlive: keepAlive, isHTTP10: isHTTP10, omitBody: omitBody, dateLine: [], to: &buffer)
    }

    /// As above, with a pre-rendered `Date: …\r\n` line (the event loop renders one per second).
    static func append(
        _ response: HTTPResponse, keepAlive: Bool, isHTTP10: Bool, omitBody: Bool, dateLine: [UInt8],
        to buffer: inout [UInt8]
    ) {
        buffer.reserveCapacity(buffer.count + 128 + response.headers.bytes.count + response.body.count)
        appendStatusLine(response.status, to: &buffer)
        // A forwarded response already carries the leader's Date; never send two.
        if !dateLine.isEmpty && !response.headers.contains("date") { buffer.append(contentsOf: dateLine) }
        response.headers.bytes.withUnsafeBufferPointer { bytes in
            for field in response.headers.fields {
                buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[Int(field.nameStart)..<Int(field.nameEnd)]))
                buffer.append(UInt8(ascii: ":"))
                buffer.append(UInt8(ascii: " "))
                buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[Int(field.nameEnd)..<Int(field.valueEnd)]))
                appendCRLF(to: &buffer)
            }
        }
        if !response.status.forbidsBody {
            appendLiteral("Content-Length: ", to: &buffer)
            appendDecimal(response.body.count, to: &buffer)
            appendCRLF(to: &buffer)
        }
        if !keepAlive {
            appendLiteral("Connection: close\r\n", to: &buffer)
        } else if isHTTP10 {
            appendLiteral("Connection: keep-alive\r\n", to: &buffer)
        }
        appendCRLF(to: &buffer)
        if !omitBody && !response.status.forbidsBody { buffer.append(contentsOf: response.body) }
    }

    /// The interim `100 Continue` response for `Expect: 100-continue`.
    static func appendContinue(to buffer: inout [UInt8]) {
        appendLiteral("HTTP/1.1 100 Continue\r\n\r\n", to: &buffer)
    }

    private static func appendStatusLine(_ status: HTTPStatus, to buffer: inout [UInt8]) {
        switch status.code {
        case 200: appendLiteral("HTTP/1.1 200 OK\r\n", to: &buffer)
        case 201: appendLiteral("HTTP/1.1 201 Created\r\n", to: &buffer)
        case 204: appendLiteral("HTTP/1.1 204 No Content\r\n", to: &buffer)
        default:
            appendLiteral("HTTP/1.1 ", to: &buffer)
            appendDecimal(status.code, to: &buffer)
            buffer.append(UInt8(ascii: " "))
            buffer.append(contentsOf: status.reasonPhrase.utf8)
            appendCRLF(to: &buffer)
        }
    }

    @inline(__always)
    static func appendLiteral(_ literal: StaticString, to buffer: inout [UInt8]) {
        buffer.append(contentsOf: UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    @inline(__always)
    static func appendCRLF(to buffer: inout [UInt8]) {
        buffer.append(0x0D)
        buffer.append(0x0A)
    }

    /// Appends a non-negative integer in decimal without making a String.
    static func appendDecimal(_ value: Int, to buffer: inout [UInt8]) {
        precondition(value >= 0, "negative decimal")
        if value < 10 {
            buffer.append(UInt8(ascii: "0") + UInt8(value))
            return
        }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: enough for Int.max
        var count = 0
        var remaining = value
        withUnsafeMutableBytes(of: &digits) { raw in
            while remaining > 0 {
                raw[23 - count] = UInt8(ascii: "0") + UInt8(remaining % 10)
                remaining /= 10
                count += 1
            }
            buffer.append(contentsOf: raw[(24 - count)...])
        }
    }
}
