/// A request handler that may answer later and from another thread through the responder.
/// It runs on the event loop: it must not block (hand slow work to another thread and respond
/// from there).
public typealias HTTPHandler = @Sendable (HTTPRequest, HTTPResponder) -> Void

/// Maps method + path pattern to handlers, hummingbird style, testable in process without
/// sockets. Patterns are `/`-separated literal segments and `{name}` parameters
/// (`/v1/topics/{t}/partitions/{p}/records`). A path that matches no pattern is a 404; one that
/// matches a pattern but not the method is a 405 with `Allow`. HEAD falls back to GET.
public struct Router: Sendable {
    /// One trie node: the children by literal segment, an optional parameter child, and the
    /// handlers of the pattern that ends here.
    private struct Node: Sendable {
        var literalChildren: [String: Int] = [:]
        var parameterChild: (name: String, node: Int)?
        var handlers: [HTTPMethod: HTTPHandler] = [:]
        var patterns: [HTTPMethod: String] = [:]
    }

    private var nodes: [Node] = [Node()]
    /// Every registered route, in registration order.
    public private(set) var routes: [(method: HTTPMethod, pattern: String)] = []

    /// An empty router.
    public init() {}

    /// Registers a handler that answers through its responder, possibly later.
    /// Registering the same method and pattern twice is a programmer error.
    public mutating func addDeferred(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping HTTPHandler) {
        var node = 0
        for segment in Self.segments(of: pattern) {
            node = child(of: node, for: segment, pattern: pattern)
        }
        precondition(nodes[node].handlers[method] == nil, "route registered twice: \(method.rawValue) \(pattern)")
        nodes[node].handlers[method] = handler
        nodes[node].patterns[method] = pattern
        routes.append((method, pattern))
    }

    /// Replaces every registered handler with `wrap`'s result, given its method and pattern as
    /// registered: middleware (metrics) labels by route template, never by raw path.
    public mutating func wrapHandlers(_ wrap: (HTTPMethod, String, @escaping HTTPHandler) -> HTTPHandler) {
        for index in nodes.indices {
            for (method, handler) in nodes[index].handlers {
                nodes[index].handlers[method] = wrap(method, nodes[index].patterns[method] ?? "", handler)
            }
        }
    }

    /// Registers a synchronous handler. A thrown `HTTPResponseError` keeps its status;
    /// anything else is a 500.
    public mutating func add(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping @Sendable (HTTPRequest) throws -> HTTPResponse) {
        addDeferred(method, pattern) { request, responder in
            do {
                responder.send(try handler(request))
            } catch {
                responder.send(error: error)
            }
        }
    }

    /// Registers an async handler, run in a task off the event loop.
    public mutating func addAsync(_ method: HTTPMethod, _ pattern: String, _ handler: @escaping @Sendable (HTTPRequest) async throws -> HTTPResponse) {
        addDeferred(method, pattern) { request, responder in
            Task {
                do {
                    responder.send(try await handler(request))
                } catch {
                    responder.send(error: error)
                }
            }
        }
    }

    /// Finds the handler for `request` and runs it; 404/405/400 are answered here.
    public func handle(_ request: HTTPRequest, responder: HTTPResponder) {
        switch resolve(request) {
        case .success(let (handler, routed)): handler(routed, responder)
        case .failure(let error): responder.send(error: error)
        }
    }

    /// Answers `request` in process without blocking a thread: the async form for tests of
    /// deferred and async handlers (a responder always answers, at worst with a 500 when it
    /// is dropped).
    public func response(for request: HTTPRequest) async -> HTTPResponse {
        await withCheckedContinuation { continuation in
            handle(request, responder: HTTPResponder { continuation.resume(returning: $0) })
        }
    }

    /// Answers `request` in process and blocks up to `timeoutMilliseconds` for a deferred
    /// response. Nil when the handler has not responded by then. For synchronous tests and
    /// tools; from async code use `response(for:)`, since blocking a cooperative thread can
    /// starve the task that would respond.
    public func respond(to request: HTTPRequest, timeoutMilliseconds: UInt64 = 5_000) -> HTTPResponse? {
        let box = ResponseBox()
        handle(request, responder: HTTPResponder { box.put($0) })
        return box.wait(timeoutMilliseconds: timeoutMilliseconds)
    }

    /// The handler and the request with its path parameters bound, or the 404/405/400 error.
    func resolve(_ request: HTTPRequest) -> Result<(HTTPHandler, HTTPRequest), HTTPError> {
        var parameters: [(name: String, value: Substring)] = []
        let segments = Self.segments(of: request.path)
        guard let node = match(segments, at: 0, node: 0, parameters: &parameters) else {
            return .failure(.notFound("no route for path '\(request.path)'; see docs/openapi.yaml for the API"))
        }
        let handlers = nodes[node].handlers
        guard let handler = handlers[request.method] ?? (request.method == .head ? handlers[.get] : nil) else {
            var allowed = HTTPMethod.allCases.filter { handlers[$0] != nil }.map(\.rawValue)
            if handlers[.get] != nil && handlers[.head] == nil { allowed.append("HEAD") }
            var headers = HTTPHeaders()
            headers.add(name: "Allow", value: allowed.joined(separator: ", "))
            return .failure(HTTPError(.methodNotAllowed, code: "method_not_allowed",
                                      message: "\(request.method.rawValue) is not allowed on '\(request.path)'; allowed: \(allowed.joined(separator: ", "))",
                                      headers: headers))
        }
        var routed = request
        routed.pathParameters.reserveCapacity(parameters.count)
        for parameter in parameters {
            do {
                routed.pathParameters.append((parameter.name, try QueryString.percentDecode(parameter.value.utf8, plusIsSpace: false)))
            } catch {
                return .failure(error)
            }
        }
        return .success((handler, routed))
    }

    /// Depth-first match preferring literal segments over parameters, with backtracking.
    /// Depth is bounded by the trie's depth, not by the request.
    private func match(_ segments: [Substring], at index: Int, node: Int, parameters: inout [(name: String, value: Substring)]) -> Int? {
        if index == segments.count { return nodes[node].handlers.isEmpty ? nil : node }
        let segment = segments[index]
        if let literal = nodes[node].literalChildren[String(segment)],
           let found = match(segments, at: index + 1, node: literal, parameters: &parameters) {
            return found
        }
        if let (name, child) = nodes[node].parameterChild {
            parameters.append((name, segment))
            if let found = match(segments, at: index + 1, node: child, parameters: &parameters) { return found }
            parameters.removeLast()
        }
        return nil
    }

    private mutating func child(of node: Int, for segment: Substring, pattern: String) -> Int {
        if segment.first == "{" {
            precondition(segment.last == "}" && segment.count > 2, "bad parameter segment '\(segment)' in \(pattern)")
            let name = String(segment.dropFirst().dropLast())
            if let existing = nodes[node].parameterChild {
                precondition(existing.name == name, "parameter {\(name)} conflicts with {\(existing.name)} in \(pattern)")
                return existing.node
            }
            nodes.append(Node())
            nodes[node].parameterChild = (name, nodes.count - 1)
            return nodes.count - 1
        }
        precondition(!segment.contains("{") && !segment.contains("}"), "bad literal segment '\(segment)' in \(pattern)")
        if let existing = nodes[node].literalChildren[String(segment)] { return existing }
        nodes.append(Node())
        nodes[node].literalChildren[String(segment)] = nodes.count - 1
        return nodes.count - 1
    }

    /// Non-empty `/`-separated segments: `/v1/topics/` and `/v1/topics` route alike.
    private static func segments(of path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }
}
