import Foundation

/// One broker node the client may talk to. Why a type: the client accepts both `URL`s
/// (`http://127.0.0.1:8080`) and bare `"host:port"` strings, and normalises them once.
public struct ServerAddress: Hashable, Sendable, CustomStringConvertible {
    /// IPv4 literal or host name (resolved with getaddrinfo at connect time).
    public let host: String
    /// TCP port.
    public let port: UInt16

    /// Builds an address from parts.
    public init(host: String, port: UInt16) {
        self.host = host
        self.port = port
    }

    /// Parses `"host:port"` or `"http://host:port[/]"`. Why throw: a typo in a server list
    /// should fail at construction, not on the first request.
    public init(parsing text: String) throws(MOMClientError) {
        var rest = Substring(text.trimmingCharacters(in: .whitespaces))
        if rest.hasPrefix("https://") {
            throw .invalidArgument("'\(text)': https is not supported; use http://host:port")
        }
        if rest.hasPrefix("http://") { rest = rest.dropFirst("http://".count) }
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        guard let colon = rest.lastIndex(of: ":"), colon != rest.startIndex,
              let port = UInt16(rest[rest.index(after: colon)...]), port != 0
        else {
            throw .invalidArgument("'\(text)' is not host:port (for example 127.0.0.1:8080)")
        }
        let host = String(rest[..<colon])
        guard !host.contains("/") else {
            throw .invalidArgument("'\(text)': paths are not allowed in a server address")
        }
        self.init(host: host, port: port)
    }

    /// Converts a URL such as `http://127.0.0.1:8080`; the port defaults to 80.
    public init(url: URL) throws(MOMClientError) {
        guard url.scheme == nil || url.scheme == "http", let host = url.host, !host.isEmpty else {
            throw .invalidArgument("'\(url)' is not an http://host:port URL")
        }
        self.init(host: host, port: UInt16(clamping: url.port ?? 80))
    }

    public var description: String { "\(host):\(port)" }
}
