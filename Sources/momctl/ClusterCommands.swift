import MOMClient

/// `momctl cluster status` and `momctl cluster meta-reassign`.
enum ClusterCommands {
    static let group = ServerCommandGroup.make(
        name: "cluster", summary: "show nodes, groups, leaders and lag; change __meta's voters",
        subcommands: [statusCommand, metaReassignCommand])

    static let metaReassignCommand = ServerSubcommand(
        name: "meta-reassign", usage: "momctl cluster meta-reassign --replicas 1,2,4",
        details: """
            Sets the voters of __meta, the Raft group holding the catalog: 1 or more distinct live
            nodes (an odd count is recommended: 3 or 5). The __meta leader promotes each new voter
            once it has caught up (every live node already follows __meta as a learner), then
            removes each old one, handing leadership over first if it leaves itself. Watch it with
            'momctl cluster status'; a removed node may then be stopped.
            """,
        options: [OptionSpecification(name: "replicas", takesValue: true)]
    ) { invocation in
        try invocation.arguments.none()
        let voters = try invocation.arguments.nodeList("replicas")
        let recorded = try await invocation.session().client.reassignMeta(voters: voters)
        invocation.console.output(
            "moving __meta's voters from \(ReassignCommands.list(recorded.previousReplicas)) to \(ReassignCommands.list(recorded.replicas))")
    }

    /// Topics and queues described at most, so status stays quick on a big catalog.
    static let describedMaximum = 200

    static let statusCommand = ServerSubcommand(
        name: "status", usage: "momctl cluster status [--lag-threshold ENTRIES] [--output table|json]",
        details: """
            Asks the server for GET /v1/cluster, then every live node it lists for its own view, and
            merges them: nodes, Raft groups (owner, leader, term, commit index, voters, the largest
            follower lag), topic partitions with their offsets, queue counters, and the groups that
            are under-replicated: no leader, a voter that is not live, or a follower more than
            --lag-threshold entries (default 1000) behind its leader.
            """,
        options: [OptionSpecification(name: "lag-threshold", takesValue: true)],
        readsOutput: true,
        run: run)

    @Sendable static func run(_ invocation: Invocation) async throws {
        try invocation.arguments.none()
        let threshold = try invocation.arguments.unsigned("lag-threshold") ?? ClusterReport.defaultLagThreshold
        let session = try invocation.session()
        let first = try ClusterView.parse(try await session.client.clusterJSON())
        var views = [first]
        var unreachable: [UInt64: String] = [:]
        for node in first.nodes where node.id != first.nodeID && node.live && !node.http.isEmpty {
            do {
                let peer = try session.client(forServer: "http://" + node.http)
                views.append(try ClusterView.parse(try await peer.clusterJSON()))
            } catch {
                unreachable[node.id] = ErrorReport.describe(error, authentication: .none).message.prefix(80).description
            }
        }
        var notes: [String] = []
        let topics = try await describeTopics(session.client, notes: &notes)
        let queues = await describeQueues(session.client, notes: &notes)
        var report = ClusterReport.build(views: views, unreachable: unreachable, topics: topics, queues: queues, lagThreshold: threshold)
        report.notes = notes
        switch invocation.output {
        case .table: invocation.console.writeOutput(report.render())
        case .json: invocation.console.output(JSONOutput.render(report.json()))
        }
    }

    private static func describeTopics(_ client: MOMClient, notes: inout [String]) async throws -> [TopicInfo] {
        let names = try await client.listTopics().sorted()
        if names.count > describedMaximum { notes.append("\(names.count - describedMaximum) more topics not shown") }
        var topics: [TopicInfo] = []
        for name in names.prefix(describedMaximum) {
            do {
                topics.append(try await client.topic(name))
            } catch let error as MOMClientError {
                // Deleted between list and describe: not worth failing the whole status for.
                notes.append("topic '\(name)': \(error)")
            }
        }
        return topics
    }

    /// Queue counters, if the server has queues; a server without the queue routes gives none.
    private static func describeQueues(_ client: MOMClient, notes: inout [String]) async -> [QueueStats] {
        let names: [String]
        do {
            names = try await client.listQueues().sorted()
        } catch {
            if case MOMClientError.server(404, _, _) = error { return [] }
            notes.append("queues: \(error)")
            return []
        }
        if names.count > describedMaximum { notes.append("\(names.count - describedMaximum) more queues not shown") }
        var queues: [QueueStats] = []
        for name in names.prefix(describedMaximum) {
            do { queues.append(try await client.queueStats(name)) } catch { notes.append("queue '\(name)': \(error)") }
        }
        return queues
    }
}
