import Auth
import HTTPServer
import MOMCore

/// `POST/GET /v1/exchanges`, `DELETE /v1/exchanges/{x}` and the binding routes. Changes go
/// through the `__meta` leader as catalog commands; lists come from this node's catalog.
extension BrokerAPI {
    func registerExchanges(_ router: inout Router) {
        router.add(.post, "/v1/exchanges", action: .manageExchanges, gate: gate) { request, responder in self.createExchange(request, responder) }
        router.add(.get, "/v1/exchanges", action: .describe, gate: gate) { _, responder in responder.send(self.listExchanges()) }
        router.add(.delete, "/v1/exchanges/{x}", action: .manageExchanges, gate: gate) { request, responder in
            self.proposeCatalog(.deleteExchange(name: request.pathParameter("x") ?? ""), request: request, responder: responder) { _ in
                HTTPResponse(status: .noContent)
            }
        }
        router.add(.post, "/v1/exchanges/{x}/bindings", action: .manageBindings, gate: gate) { request, responder in self.addBinding(request, responder) }
        router.add(.get, "/v1/exchanges/{x}/bindings", action: .describe, gate: gate) { request, responder in self.listBindings(request, responder) }
        router.add(.delete, "/v1/exchanges/{x}/bindings/{id}", action: .manageBindings, gate: gate) { request, responder in
            let exchange = request.pathParameter("x") ?? ""
            let text = request.pathParameter("id") ?? ""
            guard let id = UInt64(text) else {
                return _ = responder.send(error: HTTPError.notFound(
                    "exchange '\(exchange)' has no binding '\(text)' (binding ids are numbers); list them with GET /v1/exchanges/\(exchange)/bindings"))
            }
            self.proposeCatalog(.removeBinding(exchange: exchange, id: BindingID(id)), request: request, responder: responder) { _ in
                HTTPResponse(status: .noContent)
            }
        }
        registerPublish(&router)
    }

    private func createExchange(_ request: HTTPRequest, _ responder: HTTPResponder) {
        guard metaLeaderOrForward(request, responder) != nil else { return }
        do {
            let body = try RequestJSON.object(request, limits: limits)
            let name = try RequestJSON.string(body, "name") ?? ""
            let typeName = try RequestJSON.string(body, "type") ?? ""
            guard let type = ExchangeType(name: typeName) else {
                throw HTTPError.badRequest("'type' must be \"direct\", \"topic\" or \"fanout\", not '\(ResourceName.printable(typeName))'")
            }
            let command = CatalogCommand.createExchange(name: name, type: type)
            try node.meta.current.validate(command)
            proposeCatalog(command, request: request, responder: responder) { _ in
                .json(.created, bytes: Self.exchangeJSON(ExchangeConfig(name: name, type: type)))
            }
        } catch {
            responder.send(routeError: error)
        }
    }

    private func listExchanges() -> HTTPResponse {
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("exchanges")
        writer.beginArray()
        for exchange in node.meta.current.exchanges { writer.raw(Self.exchangeJSON(exchange)) }
        writer.endArray()
        writer.endObject()
        return .json(bytes: writer.bytes)
    }

    static func exchangeJSON(_ exchange: ExchangeConfig) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("name", exchange.name)
        writer.field("type", exchange.type.name)
        writer.endObject()
        return writer.bytes
    }

    private func addBinding(_ request: HTTPRequest, _ responder: HTTPResponder) {
        guard metaLeaderOrForward(request, responder) != nil else { return }
        do {
            let exchange = request.pathParameter("x") ?? ""
            let body = try RequestJSON.object(request, limits: limits)
            let destination = try RequestJSON.string(body, "destination") ?? ""
            let typeName = try RequestJSON.string(body, "destination_type") ?? ""
            guard let type = DestinationType(name: typeName) else {
                throw HTTPError.badRequest("'destination_type' must be \"topic\" or \"queue\", not '\(ResourceName.printable(typeName))'")
            }
            let bindingKey = try RequestJSON.string(body, "binding_key", required: false) ?? ""
            let command = CatalogCommand.addBinding(AddBinding(exchange: exchange, destination: destination, destinationType: type, bindingKey: bindingKey))
            try node.meta.current.validate(command)
            proposeCatalog(command, request: request, responder: responder) { outcome in
                guard let binding = outcome.binding else { return HTTPResponse(error: HTTPError.internalError) }
                return .json(.created, bytes: Self.bindingJSON(binding))
            }
        } catch {
            responder.send(routeError: error)
        }
    }

    private func listBindings(_ request: HTTPRequest, _ responder: HTTPResponder) {
        let exchange = request.pathParameter("x") ?? ""
        guard let bindings = node.meta.current.bindings(exchange: exchange) else {
            return _ = responder.send(error: node.missing(Catalog.exchangeMissing(exchange).httpError))
        }
        var writer = JSONWriter()
        writer.beginObject()
        writer.key("bindings")
        writer.beginArray()
        for binding in bindings { writer.raw(Self.bindingJSON(binding)) }
        writer.endArray()
        writer.endObject()
        responder.send(.json(bytes: writer.bytes))
    }

    /// A binding as the API shows it; the id is a string (clients treat it as opaque).
    static func bindingJSON(_ binding: Binding) -> [UInt8] {
        var writer = JSONWriter()
        writer.beginObject()
        writer.field("id", "\(binding.id.rawValue)")
        writer.field("exchange", binding.exchange)
        writer.field("destination", binding.destination)
        writer.field("destination_type", binding.destinationType.name)
        writer.field("binding_key", binding.bindingKey)
        writer.endObject()
        return writer.bytes
    }
}
