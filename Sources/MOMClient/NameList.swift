/// A list of resource names as the broker sends it: either `["orders"]` (docs/openapi.yaml) or
/// `[{"name":"orders",…}]` (what momd's GET /v1/topics answers today, with partitions and
/// replication factor beside each name). Why both: the client must keep working with either
/// side of that discrepancy until the contract and the server agree.
struct NameList: Decodable, Sendable {
    var names: [String]

    private struct Named: Decodable { var name: String }

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let names = try? container.decode([String].self) {
            self.names = names
        } else {
            names = try container.decode([Named].self).map(\.name)
        }
    }
}
