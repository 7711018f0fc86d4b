import Foundation
import MOMClient
import MOMCore

/// `momctl topic reassign` and `momctl queue reassign`: one partition to a new replica set.
enum ReassignCommands {
    static func subcommand(kind: String) -> ServerSubcommand {
        ServerSubcommand(
            name: "reassign",
            usage: "momctl \(kind) reassign NAME --partition P --replicas 1,2,4",
            details: """
                Moves one partition to a new replica set (preferred leader first): exactly the \(kind)'s
                replication factor of distinct live nodes. The broker records the target and the
                partition's leader moves the Raft group there one change at a time: each new node
                joins as a learner, becomes a voter once caught up, then each old node leaves.
                Watch it with 'momctl cluster status'.
                """,
            options: [OptionSpecification(name: "partition", takesValue: true), OptionSpecification(name: "replicas", takesValue: true)]
        ) { invocation in
            let arguments = invocation.arguments
            let name = try arguments.single("\(kind) name")
            guard let partition = try arguments.integer("partition", in: 0...(Limits.standard.partitionsPerResourceMax - 1)) else {
                throw UsageError(message: "missing required option '--partition'")
            }
            let replicas = try arguments.nodeList("replicas")
            let client = try invocation.session().client
            let recorded = kind == "topic"
                ? try await client.reassign(topic: name, partition: partition, replicas: replicas)
                : try await client.reassign(queue: name, partition: partition, replicas: replicas)
            invocation.console.output(describe(kind, name, recorded))
        }
    }

    static func describe(_ kind: String, _ name: String, _ recorded: Reassignment) -> String {
        "moving \(kind) '\(name)' partition \(recorded.partition) from "
            + "\(list(recorded.previousReplicas)) to \(list(recorded.replicas))"
    }

    static func list(_ nodes: [NodeID]) -> String { nodes.map { "\($0.rawValue)" }.joined(separator: ",") }
}

/// `momctl node drain N`.
enum NodeCommands {
    static let group = ServerCommandGroup.make(
        name: "node", summary: "move every partition replica off a node", subcommands: [drain])

    static let drain = ServerSubcommand(
        name: "drain",
        usage: "momctl node drain NODE [--dry-run]",
        details: """
            Reassigns every topic and queue partition that has a replica on NODE, replacing NODE by
            the live node holding the fewest replicas (not already in that partition's set). Each
            move runs in the cluster one Raft change at a time; once 'momctl cluster status' shows
            NODE in no group's voters, it can be stopped. --dry-run prints the moves only.
            """,
        options: [OptionSpecification(name: "dry-run", takesValue: false)]
    ) { invocation in
        let text = try invocation.arguments.single("node id")
        guard let raw = UInt64(text), raw > 0 else { throw UsageError(message: "the node id must be a positive integer, got '\(Dispatcher.printable(text))'") }
        let node = NodeID(raw)
        let client = try invocation.session().client
        let live = try ClusterView.parse(try await client.clusterJSON()).nodes.filter(\.live).map { NodeID($0.id) }
        var partitions: [DrainPlan.Partition] = []
        for name in try await client.listTopics().sorted() {
            for partition in try await client.topic(name).partitions {
                partitions.append(.init(kind: "topic", name: name, partition: partition.partition, replicas: partition.replicas))
            }
        }
        for name in try await client.listQueues().sorted() {
            for partition in try await client.queuePartitions(name) {
                partitions.append(.init(kind: "queue", name: name, partition: partition.partition, replicas: partition.replicas))
            }
        }
        let moves: [DrainPlan.Move]
        do {
            moves = try DrainPlan.plan(draining: node, partitions: partitions, liveNodes: live)
        } catch DrainPlan.Failure.noSpareNode(let partition) {
            throw UsageError(message: "no live node can take node \(raw)'s place in \(partition.kind) '\(partition.name)' partition \(partition.partition) (replicas \(ReassignCommands.list(partition.replicas))); start another node first")
        }
        if moves.isEmpty { return invocation.console.output("node \(raw) holds no partition replicas") }
        for move in moves {
            let target = move.partition
            if invocation.arguments.flags.contains("dry-run") {
                invocation.console.output("would move \(target.kind) '\(target.name)' partition \(target.partition) from \(ReassignCommands.list(target.replicas)) to \(ReassignCommands.list(move.replicas))")
                continue
            }
            let recorded = target.kind == "topic"
                ? try await client.reassign(topic: target.name, partition: target.partition, replicas: move.replicas)
                : try await client.reassign(queue: target.name, partition: target.partition, replicas: move.replicas)
            invocation.console.output(ReassignCommands.describe(target.kind, target.name, recorded))
        }
    }
}
