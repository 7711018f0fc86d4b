import MOMCore
import Testing
@testable import Broker

@Suite struct CatalogCodecTests {
    static let commands: [CatalogCommand] = [
        CatalogFixtures.createTopic("orders", partitions: 3, retentionMilliseconds: 1000),
        .createTopic(CreateTopic(
            name: "t", partitions: 1, replicationFactor: 1, retentionMilliseconds: nil, retentionBytes: 1 << 40,
            replicas: [[NodeID(.max)]])),
        .deleteTopic(name: "orders"),
        CatalogFixtures.createQueue("jobs", maxDeliveries: 5),
        CatalogFixtures.createQueue("mail"),
        .deleteQueue(name: "jobs"),
        .createExchange(name: "events", type: .topic),
        .createExchange(name: "d", type: .direct),
        .createExchange(name: "f", type: .fanout),
        .deleteExchange(name: "events"),
        CatalogFixtures.bind("events", "jobs", key: "a.*.#"),
        CatalogFixtures.bind("events", "orders", .topic, key: ""),
        .removeBinding(exchange: "events", id: BindingID(77)),
        .createSubscription(CreateSubscription(topic: "orders", name: "s", start: .latest, startOffsets: [Offset(1), Offset(1 << 50)])),
        .deleteSubscription(topic: "orders", name: "s"),
        .reassignPartition(ReassignPartition(
            destinationType: .queue, name: "jobs", partition: PartitionID(.max), replicas: [NodeID(4), NodeID(.max)])),
        .reassignMeta(voters: [NodeID(4), NodeID(.max), NodeID(1)]),
    ]

    @Test(arguments: commands) func commandRoundTrips(_ command: CatalogCommand) throws {
        let bytes = command.encoded()
        #expect(try CatalogCommand.decode(bytes) == command)
        for length in 0..<bytes.count {
            #expect(throws: DecodeError.self) { try CatalogCommand.decode(Array(bytes.prefix(length))) }
        }
        #expect(throws: DecodeError.self) { try CatalogCommand.decode(bytes + [0]) }
    }

    @Test func rejectsUnknownVersionKindAndEnums() {
        #expect(throws: DecodeError.self) { try CatalogCommand.decode([2, 1]) }
        #expect(throws: DecodeError.self) { try CatalogCommand.decode([1, 0]) }
        #expect(throws: DecodeError.self) { try CatalogCommand.decode([1, 11]) }
        #expect(throws: DecodeError.self) { try CatalogCommand.decode([1, 5, 1, 0x61, 4]) }  // exchange type 4
        #expect(throws: DecodeError.self) { try CatalogCommand.decode([1, 1, 1, 0x61, 1, 1, 2]) }  // presence byte 2
    }

    @Test func snapshotRoundTripsAndKeepsAllocating() throws {
        var catalog = CatalogFixtures.populated()
        let bytes = CatalogSnapshot.encode(catalog)
        var restored = try CatalogSnapshot.decode(bytes)
        #expect(restored == catalog)
        #expect(CatalogSnapshot.encode(restored) == bytes, "equal catalogs encode to equal bytes")
        // Both continue identically: counters survived the snapshot.
        let next = CatalogFixtures.createTopic("later", partitions: 2)
        #expect(try catalog.apply(next).get() == restored.apply(next).get())
        let bind = CatalogFixtures.bind("all", "later", .topic)
        #expect(try catalog.apply(bind).get() == restored.apply(bind).get())
        #expect(restored == catalog)
        #expect(restored.group(GroupID(1))?.owner.name == "orders")
    }

    @Test func emptyCatalogSnapshot() throws {
        #expect(try CatalogSnapshot.decode(CatalogSnapshot.encode(Catalog())) == Catalog())
    }

    @Test func everyTruncatedSnapshotThrows() {
        let bytes = CatalogSnapshot.encode(CatalogFixtures.populated())
        for length in 0..<bytes.count {
            #expect(throws: DecodeError.self) { try CatalogSnapshot.decode(Array(bytes.prefix(length))) }
        }
    }

    @Test func inconsistentSnapshotsAreRejected() throws {
        let catalog = CatalogFixtures.populated()
        // A snapshot whose group counter is behind its groups would reuse IDs: reject it.
        var stale = CatalogSnapshot.encode(catalog)
        #expect(stale[1] == UInt8(catalog.nextGroupID.rawValue))
        stale[1] = 1
        #expect(throws: DecodeError.self) { try CatalogSnapshot.decode(stale) }
        // A binding to a topic the snapshot lacks.
        var orphan = Catalog()
        _ = orphan.apply(CatalogFixtures.createTopic("t", partitions: 1))
        _ = orphan.apply(.createExchange(name: "x", type: .fanout))
        _ = orphan.apply(CatalogFixtures.bind("x", "t", .topic))
        var bytes = CatalogSnapshot.encode(orphan)
        let name = Array("t".utf8)
        let last = try #require(bytes.lastIndex(of: name[0]))  // binding destination "t" (the last 't' byte)
        bytes[last] = UInt8(ascii: "u")
        #expect(throws: DecodeError.self) { try CatalogSnapshot.decode(bytes) }
    }

    /// Replicas applying the same random command log agree, and a replica that restarts from a
    /// snapshot at any point and replays the rest reaches the same catalog.
    @Test func replicasAgreeOnRandomCommandLogs() throws {
        for seed in TestSeed.seeds(count: 20, base: 5) {
            var random = SeededRandom(seed: seed)
            let log = (0..<150).map { _ in randomCommand(&random) }
            var leader = Catalog()
            var results: [Result<CatalogOutcome, ModelError>] = []
            for command in log {
                let decoded = try CatalogCommand.decode(command.encoded())
                results.append(leader.apply(decoded))
            }
            let cut = Int(random.uniform(below: UInt64(log.count)))
            var follower = Catalog()
            for command in log[..<cut] { _ = follower.apply(command) }
            var restarted = try CatalogSnapshot.decode(CatalogSnapshot.encode(follower))
            for (index, command) in log.enumerated().dropFirst(cut) {
                #expect(restarted.apply(command) == results[index], "MOM_SEED=\(seed) command \(index)")
            }
            #expect(restarted == leader, "MOM_SEED=\(seed)")
            let bindings = leader.exchanges.reduce(0) { $0 + (leader.bindings(exchange: $1.name)?.count ?? 0) }
            #expect(leader.bindingCount == bindings && restarted.bindingCount == bindings, "MOM_SEED=\(seed)")
            #expect(results.contains { (try? $0.get()) != nil }, "MOM_SEED=\(seed): the log did something")
        }
    }

    private func randomCommand(_ random: inout SeededRandom) -> CatalogCommand {
        let names = ["a", "b", "c", "a.dead-letter"]
        let name = names[Int(random.uniform(below: UInt64(names.count)))]
        let partitions = random.uniform(in: 1...3)
        switch random.uniform(below: 10) {
        case 0: return CatalogFixtures.createTopic(name, partitions: partitions)
        case 1: return .deleteTopic(name: name)
        case 2: return CatalogFixtures.createQueue(name, partitions: partitions, maxDeliveries: random.chance(1, in: 2) ? 3 : nil)
        case 3: return .deleteQueue(name: name)
        case 4: return .createExchange(name: "x" + name, type: ExchangeType.allCases[Int(random.uniform(below: 3))])
        case 5: return .deleteExchange(name: "x" + name)
        case 6:
            return CatalogFixtures.bind(
                "x" + names[Int(random.uniform(below: 3))], name, random.chance(1, in: 2) ? .topic : .queue,
                key: ["", "k", "#"][Int(random.uniform(below: 3))])
        case 7: return .removeBinding(exchange: "x" + name, id: BindingID(random.uniform(below: 20)))
        case 8:
            return .createSubscription(CreateSubscription(
                topic: name, name: "s" + String(random.uniform(below: 2)), start: .earliest,
                startOffsets: Array(repeating: .zero, count: partitions)))
        default: return .deleteSubscription(topic: name, name: "s" + String(random.uniform(below: 2)))
        }
    }
}
