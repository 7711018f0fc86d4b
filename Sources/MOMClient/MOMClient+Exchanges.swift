import Foundation
import MOMCore

/// How an exchange matches routing keys against binding keys.
public enum ExchangeType: String, Sendable, Codable {
    /// Equal keys.
    case direct
    /// AMQP-style patterns: `*` is one word, `#` zero or more words.
    case topic
    /// Every binding, key ignored.
    case fanout
}

/// What a binding delivers to.
public enum DestinationType: String, Sendable, Codable {
    case topic
    case queue
}

/// An exchange as listed by the broker.
public struct ExchangeInfo: Sendable, Equatable, Decodable {
    public var name: String
    public var type: ExchangeType
}

/// A binding from an exchange to a topic or queue.
public struct Binding: Sendable, Equatable, Codable {
    /// Server-assigned; use it to delete the binding.
    public var id: String?
    public var destination: String
    public var destinationType: DestinationType
    public var bindingKey: String

    public init(destination: String, destinationType: DestinationType, bindingKey: String, id: String? = nil) {
        self.id = id
        self.destination = destination
        self.destinationType = destinationType
        self.bindingKey = bindingKey
    }

    enum CodingKeys: String, CodingKey {
        case id, destination
        case destinationType = "destination_type"
        case bindingKey = "binding_key"
    }
}

/// A message published to an exchange.
public struct ExchangeMessage: Sendable, Equatable, Encodable {
    public var routingKey: String
    public var value: [UInt8]
    public var headers: [String: String]

    public init(routingKey: String, value: [UInt8], headers: [String: String] = [:]) {
        self.routingKey = routingKey
        self.value = value
        self.headers = headers
    }

    public init(routingKey: String, value: String, headers: [String: String] = [:]) {
        self.init(routingKey: routingKey, value: Array(value.utf8), headers: headers)
    }

    enum CodingKeys: String, CodingKey {
        case value, headers
        case routingKey = "routing_key"
        case valueBase64 = "value_base64"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(routingKey, forKey: .routingKey)
        try BytesField.encode(value, into: &container, text: .value, base64: .valueBase64)
        if !headers.isEmpty { try container.encode(headers, forKey: .headers) }
    }
}

/// Where one published message went; empty when no binding matched.
public struct RoutedDestination: Sendable, Equatable, Decodable {
    public var destination: String
    /// Whether `destination` is a topic or a queue (nil from servers that do not say).
    public var destinationType: DestinationType?
    public var partition: Int
    public var offset: Offset

    enum CodingKeys: String, CodingKey {
        case destination, partition, offset
        case destinationType = "destination_type"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        destination = try container.decode(String.self, forKey: .destination)
        destinationType = try container.decodeIfPresent(DestinationType.self, forKey: .destinationType)
        partition = try container.decode(Int.self, forKey: .partition)
        offset = Offset(try container.decode(UInt64.self, forKey: .offset))
    }
}

struct CreateExchangeBody: Encodable {
    var name: String
    var type: ExchangeType
}

struct ExchangeListBody: Decodable { var exchanges: [ExchangeInfo] }
struct BindingListBody: Decodable { var bindings: [Binding] }
struct ExchangePublishBody: Encodable {
    var messages: [ExchangeMessage]
    var producerID: UInt64?
    var sequence: UInt64?

    enum CodingKeys: String, CodingKey {
        case messages
        case producerID = "producer_id"
        case sequence
    }
}
struct ExchangePublishResponseBody: Decodable {
    struct Result: Decodable { var routed: [RoutedDestination] }
    var results: [Result]
}

extension MOMClient {
    /// Creates an exchange (POST /v1/exchanges).
    public func createExchange(_ name: String, type: ExchangeType) async throws {
        _ = try await send(method: "POST", target: "/v1/exchanges", body: try JSONWire.encode(CreateExchangeBody(name: name, type: type)))
    }

    /// Lists exchanges (GET /v1/exchanges).
    public func listExchanges() async throws -> [ExchangeInfo] {
        let response = try await send(method: "GET", target: "/v1/exchanges")
        let list: ExchangeListBody = try JSONWire.decode(response.body)
        return list.exchanges
    }

    /// Deletes an exchange and its bindings (DELETE /v1/exchanges/{x}).
    public func deleteExchange(_ name: String) async throws {
        _ = try await send(method: "DELETE", target: "/v1/exchanges/\(try PathSegment.encode(name))")
    }

    /// Binds a topic or queue (POST /v1/exchanges/{x}/bindings); returns the binding with its
    /// id when the server reports one.
    @discardableResult
    public func bind(exchange: String, to binding: Binding) async throws -> Binding {
        var request = binding
        request.id = nil
        let response = try await send(
            method: "POST", target: "/v1/exchanges/\(try PathSegment.encode(exchange))/bindings",
            body: try JSONWire.encode(request))
        guard !response.body.isEmpty else { return request }
        return try JSONWire.decode(response.body)
    }

    /// Lists an exchange's bindings (GET /v1/exchanges/{x}/bindings).
    public func bindings(exchange: String) async throws -> [Binding] {
        let response = try await send(method: "GET", target: "/v1/exchanges/\(try PathSegment.encode(exchange))/bindings")
        let list: BindingListBody = try JSONWire.decode(response.body)
        return list.bindings
    }

    /// Deletes one binding (DELETE /v1/exchanges/{x}/bindings/{id}).
    public func unbind(exchange: String, bindingID: String) async throws {
        let target = "/v1/exchanges/\(try PathSegment.encode(exchange))/bindings/\(try PathSegment.encode(bindingID))"
        _ = try await send(method: "DELETE", target: target)
    }

    /// Publishes by routing key (POST /v1/exchanges/{x}/publish); returns, per message in
    /// order, the destinations it reached (empty when unroutable). With `producer`, a retry of
    /// the same batch returns the original offsets instead of writing every copy again.
    public func publish(exchange: String, messages: [ExchangeMessage], producer: ProducerSequence? = nil) async throws -> [[RoutedDestination]] {
        guard !messages.isEmpty else { return [] }
        let body = ExchangePublishBody(messages: messages, producerID: producer?.producerID, sequence: producer?.sequence)
        let response = try await send(
            method: "POST", target: "/v1/exchanges/\(try PathSegment.encode(exchange))/publish",
            body: try JSONWire.encode(body))
        let result: ExchangePublishResponseBody = try JSONWire.decode(response.body)
        guard result.results.count == messages.count else {
            throw MOMClientError.decoding("sent \(messages.count) messages but got \(result.results.count) results")
        }
        return result.results.map(\.routed)
    }
}
