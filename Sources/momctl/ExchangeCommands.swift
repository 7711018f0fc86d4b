import Foundation
import MOMClient

/// `momctl exchange create|list|delete|bind|unbind|bindings|publish` (DESIGN §4, exchanges).
enum ExchangeCommands {
    static let group = ServerCommandGroup.make(
        name: "exchange", summary: "manage exchanges and bindings; publish by routing key",
        subcommands: [create, list, delete, bind, unbind, bindings, publish])

    static let create = ServerSubcommand(
        name: "create", usage: "momctl exchange create NAME --type direct|topic|fanout",
        details: "Creates an exchange. direct: equal keys; topic: AMQP patterns ('*' one word, '#' zero or\nmore); fanout: every binding.",
        options: [OptionSpecification(name: "type", takesValue: true)]
    ) { invocation in
        let name = try invocation.arguments.single("exchange name")
        let typeName = try invocation.arguments.required("type")
        guard let type = ExchangeType(rawValue: typeName) else {
            throw UsageError(message: "--type must be direct, topic or fanout, got '\(Dispatcher.printable(typeName))'")
        }
        try await invocation.session().client.createExchange(name, type: type)
        invocation.console.output("created \(type.rawValue) exchange '\(name)'")
    }

    static let list = ServerSubcommand(
        name: "list", usage: "momctl exchange list [--output table|json]", details: "Lists exchanges and their types.", readsOutput: true
    ) { invocation in
        try invocation.arguments.none()
        let exchanges = try await invocation.session().client.listExchanges().sorted { $0.name < $1.name }
        var table = Table(["EXCHANGE", "TYPE"])
        for exchange in exchanges { table.append([exchange.name, exchange.type.rawValue]) }
        invocation.print(table: table, json: ["exchanges": exchanges.map { ["name": $0.name, "type": $0.type.rawValue] }])
    }

    static let delete = ServerSubcommand(
        name: "delete", usage: "momctl exchange delete NAME", details: "Deletes an exchange and its bindings."
    ) { invocation in
        let name = try invocation.arguments.single("exchange name")
        try await invocation.session().client.deleteExchange(name)
        invocation.console.output("deleted exchange '\(name)'")
    }

    static let bind = ServerSubcommand(
        name: "bind", usage: "momctl exchange bind NAME --destination D --destination-type topic|queue [--binding-key KEY] [--output table|json]",
        details: "Binds a topic or queue to the exchange and prints the binding's id (for unbind).",
        options: ["destination", "destination-type", "binding-key"].map { OptionSpecification(name: $0, takesValue: true) },
        readsOutput: true
    ) { invocation in
        let arguments = invocation.arguments
        let name = try arguments.single("exchange name")
        let destination = try arguments.required("destination")
        let kindName = try arguments.required("destination-type")
        guard let kind = DestinationType(rawValue: kindName) else {
            throw UsageError(message: "--destination-type must be topic or queue, got '\(Dispatcher.printable(kindName))'")
        }
        let binding = try await invocation.session().client.bind(
            exchange: name, to: Binding(destination: destination, destinationType: kind, bindingKey: arguments.values["binding-key"] ?? ""))
        invocation.print(table: ExchangeFormat.table([binding]), json: ExchangeFormat.json(binding))
    }

    static let unbind = ServerSubcommand(
        name: "unbind", usage: "momctl exchange unbind NAME BINDING_ID",
        details: "Deletes one binding; 'momctl exchange bindings NAME' lists the ids."
    ) { invocation in
        let values = try invocation.arguments.exactly(["exchange name", "binding id"])
        try await invocation.session().client.unbind(exchange: values[0], bindingID: values[1])
        invocation.console.output("deleted binding \(values[1]) of exchange '\(values[0])'")
    }

    static let bindings = ServerSubcommand(
        name: "bindings", usage: "momctl exchange bindings NAME [--output table|json]",
        details: "Lists the exchange's bindings.", readsOutput: true
    ) { invocation in
        let name = try invocation.arguments.single("exchange name")
        let list = try await invocation.session().client.bindings(exchange: name)
        invocation.print(table: ExchangeFormat.table(list), json: ["bindings": list.map(ExchangeFormat.json)])
    }

    static let publish = ServerSubcommand(
        name: "publish", usage: "momctl exchange publish NAME --routing-key KEY [MESSAGE…] [--output table|json]",
        details: "Publishes each MESSAGE argument, or without arguments each line of standard input, with the\n"
            + "routing key, and prints where each went (an unroutable message reached nothing).",
        options: [OptionSpecification(name: "routing-key", takesValue: true)],
        readsOutput: true
    ) { invocation in
        let arguments = invocation.arguments
        guard let name = arguments.positionals.first else { throw UsageError(message: "missing exchange name") }
        let routingKey = try arguments.required("routing-key")
        let messages = Array(arguments.positionals.dropFirst())
        try LineSource.checkInput(invocation, messages: messages)
        let client = try invocation.session().client
        var results: [[RoutedDestination]] = []
        try await LineSource.batches(invocation, messages: messages) { values in
            results += try await client.publish(exchange: name, messages: values.map { ExchangeMessage(routingKey: routingKey, value: $0) })
        }
        invocation.print(table: ExchangeFormat.table(results), json: ["results": results.map { ["routed": $0.map(ExchangeFormat.json)] }])
    }
}

/// How exchange answers print. Pure.
enum ExchangeFormat {
    static func table(_ bindings: [Binding]) -> Table {
        var table = Table(["ID", "DESTINATION", "TYPE", "BINDING-KEY"])
        for binding in bindings {
            table.append([binding.id ?? "-", binding.destination, binding.destinationType.rawValue, binding.bindingKey])
        }
        return table
    }

    static func json(_ binding: Binding) -> [String: Any] {
        [
            "id": binding.id.map { $0 as Any } ?? NSNull(), "destination": binding.destination,
            "destination_type": binding.destinationType.rawValue, "binding_key": binding.bindingKey,
        ]
    }

    static func table(_ results: [[RoutedDestination]]) -> Table {
        var table = Table(["MESSAGE", "DESTINATION", "PARTITION", "OFFSET"])
        for (index, routed) in results.enumerated() {
            if routed.isEmpty { table.append(["\(index)", "(unroutable)", "-", "-"]) }
            for destination in routed {
                table.append(["\(index)", destination.destination, "\(destination.partition)", "\(destination.offset.rawValue)"])
            }
        }
        return table
    }

    static func json(_ destination: RoutedDestination) -> [String: Any] {
        ["destination": destination.destination, "partition": destination.partition, "offset": destination.offset.rawValue]
    }
}
