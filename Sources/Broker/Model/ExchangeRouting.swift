/// A destination a message is routed to.
struct RouteDestination: Hashable, Sendable {
    let destination: String
    let destinationType: DestinationType
}

/// Exchange routing, pure: which destinations get a message with a given routing key.
enum ExchangeRouting {
    /// Every destination bound by a matching binding, once each even when several bindings
    /// match (AMQP delivers one copy per queue), in ascending binding-ID order of the first match.
    /// An unroutable message gets an empty list.
    static func route(type: ExchangeType, bindings: [Binding], routingKey: String) -> [RouteDestination] {
        var seen = Set<RouteDestination>()
        var routed: [RouteDestination] = []
        for binding in bindings.sorted(by: { $0.id < $1.id }) where matches(type: type, binding: binding, routingKey: routingKey) {
            let destination = RouteDestination(destination: binding.destination, destinationType: binding.destinationType)
            if seen.insert(destination).inserted { routed.append(destination) }
        }
        return routed
    }

    static func matches(type: ExchangeType, binding: Binding, routingKey: String) -> Bool {
        switch type {
        case .direct: binding.bindingKey == routingKey
        case .fanout: true
        case .topic: TopicPattern.matches(pattern: binding.bindingKey, routingKey: routingKey)
        }
    }
}
