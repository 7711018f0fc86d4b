import Dispatch
import HTTPServer
import MOMCore
import Replication

/// `GET /metrics`: the Prometheus text exposition (format 0.0.4), public like `/healthz`.
extension BrokerAPI {
    func registerMetrics(_ router: inout Router) {
        router.addDeferred(.get, "/metrics") { _, responder in self.serveMetrics(responder) }
    }

    /// The router momd serves: every route, each counted in `/metrics` by template and status.
    func makeInstrumentedRouter() -> Router {
        var router = makeRouter()
        node.metrics.instrument(&router)
        return router
    }

    /// Visits the replication loop only to read storage figures (microseconds), then renders on
    /// a dispatch queue, off both the loop and the HTTP event loop.
    private func serveMetrics(_ responder: HTTPResponder) {
        let posted = node.host.collectStorage { storage in
            DispatchQueue.global().async { responder.send(self.metricsResponse(storage: storage)) }
        }
        if !posted {
            DispatchQueue.global().async { responder.send(self.metricsResponse(storage: nil)) }
        }
    }

    func metricsResponse(storage: [GroupStorageStatus]?) -> HTTPResponse {
        let catalog = node.meta.current
        var owners: [GroupID: String] = [MetaStateMachine.group: "__meta"]
        let statuses = node.host.statuses()
        for status in statuses where status.group != MetaStateMachine.group {
            if let owner = catalog.group(status.group)?.owner {
                owners[status.group] = "\(owner.destinationType.name):\(owner.name)/\(owner.partition.rawValue)"
            }
        }
        let exposition = NodeExposition(
            nodeID: node.config.nodeID, groups: statuses, owners: owners, storage: storage,
            session: node.coordinator.sessionState, coordinatorIsStale: node.coordinator.isStale,
            relay: forwarder.relay?.statistics(), quiescedGroups: node.host.quiescedGroupCount,
            storageSyncs: node.host.storageSyncCounts)
        return .text(.ok, exposition.render(node.metrics), contentType: ExpositionWriter.contentType)
    }
}
