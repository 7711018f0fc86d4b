import Coordination
import MOMCore
import Raft
import Replication

/// Everything one scrape shows, gathered first and rendered by a pure function (testable
/// without a node). Per-group state comes from what the replication loop published after its
/// last pass, and storage figures from a short visit to the loop (`collectStorage`).
struct NodeExposition {
    var nodeID: NodeID
    var groups: [GroupStatus]
    /// `topic:orders/0`, `queue:jobs/2` or `__meta`, by group (for readable labels).
    var owners: [GroupID: String]
    /// nil when the loop could not be visited (inbox full): the storage families stay empty.
    var storage: [GroupStorageStatus]?
    var session: CoordinatorSessionState
    var coordinatorIsStale: Bool
    /// The node relay's counters (nil: no relay, as in a standalone node's tests).
    var relay: NodeRelay.Statistics? = nil
    /// Groups quiesced at the replication loop's last tick.
    var quiescedGroups: Int = 0
    /// Syncs run on the loop thread and handed to the sync thread (`--storage-writes`).
    var storageSyncs: (inline: UInt64, handedOff: UInt64) = (0, 0)

    static let roles: [Role] = [.follower, .preCandidate, .candidate, .leader]
    static let sessionStates: [(CoordinatorSessionState, String)] = [
        (.connecting, "connecting"), (.connected, "connected"), (.disconnected, "disconnected"),
        (.expired, "expired"), (.closed, "closed"),
    ]

    func render(_ metrics: NodeMetrics) -> String {
        var writer = ExpositionWriter(reservingCapacity: 8_192 + groups.count * 1_024)
        writer.family("mom_node_info", .gauge, help: "Always 1; labels identify the node.")
        writer.sample("mom_node_info", [("node_id", "\(nodeID.rawValue)")], 1)
        renderRequests(metrics, into: &writer)
        renderTraffic(metrics, into: &writer)
        renderRelay(into: &writer)
        renderGroups(into: &writer)
        renderStorage(metrics, into: &writer)
        renderCoordinator(into: &writer)
        return writer.text
    }

    private func renderRequests(_ metrics: NodeMetrics, into writer: inout ExpositionWriter) {
        let routes = metrics.routeMetrics()
        writer.family("mom_http_requests_total", .counter, help: "HTTP requests answered, by route template and status.")
        for route in routes {
            for (status, count) in route.statusCountsSeen() {
                writer.sample("mom_http_requests_total", [("method", route.method), ("route", route.pattern), ("status", "\(status)")], count)
            }
        }
        writer.family("mom_http_request_duration_seconds", .histogram, help: "Time from routing a request to its response (commit waits and long-polls included).")
        for route in routes {
            writer.histogram("mom_http_request_duration_seconds", [("method", route.method), ("route", route.pattern)], route.latency.snapshot(), buckets: route.latency.buckets)
        }
    }

    private func renderTraffic(_ metrics: NodeMetrics, into writer: inout ExpositionWriter) {
        let families: [(String, AtomicCounterArray, Int, String)] = [
            ("mom_produce_records_total", metrics.produced, 0, "Records committed with this node as partition leader."),
            ("mom_produce_bytes_total", metrics.produced, 1, "Key and value bytes of the records committed with this node as partition leader."),
            ("mom_fetch_records_total", metrics.fetched, 0, "Records returned by fetches served on this node."),
            ("mom_fetch_bytes_total", metrics.fetched, 1, "Key and value bytes of the records returned by fetches served on this node."),
        ]
        for (name, counters, slot, help) in families {
            writer.family(name, .counter, help: help)
            writer.sample(name, [], counters.value(at: slot))
        }
    }

    private func renderRelay(into writer: inout ExpositionWriter) {
        guard let relay else { return }
        writer.family("mom_relay_calls_total", .counter, help: "Forwarded writes this node sent over the node link, by outcome (declined: forwarded over HTTP instead).")
        for (outcome, count) in [("relayed", relay.relayed), ("declined", relay.declined), ("answered", relay.answered),
                                 ("link_lost", relay.linkLost), ("timed_out", relay.timedOut)] {
            writer.sample("mom_relay_calls_total", [("outcome", outcome)], count)
        }
        writer.family("mom_relay_served_total", .counter, help: "Forwarded writes other nodes sent here over the node link, by outcome.")
        writer.sample("mom_relay_served_total", [("outcome", "served")], relay.served)
        writer.sample("mom_relay_served_total", [("outcome", "refused")], relay.refused)
    }

    private func groupLabels(_ group: GroupID) -> [(String, String)] {
        [("group", "\(group.rawValue)"), ("owner", owners[group] ?? "")]
    }

    private func renderGroups(into writer: inout ExpositionWriter) {
        writer.family("mom_raft_groups_quiesced", .gauge, help: "Raft groups hosted here that are quiesced: idle, sending no heartbeats (--quiesce on).")
        writer.sample("mom_raft_groups_quiesced", [], UInt64(quiescedGroups))
        writer.family("mom_storage_syncs_total", .counter, help: "Syncs of log writes with asynchronous storage writes, by where they ran: the replication loop (inline) or the sync thread (background).")
        writer.sample("mom_storage_syncs_total", [("thread", "inline")], storageSyncs.inline)
        writer.sample("mom_storage_syncs_total", [("thread", "background")], storageSyncs.handedOff)
        writer.family("mom_raft_term", .gauge, help: "Current Raft term of each group hosted here.")
        for status in groups { writer.sample("mom_raft_term", groupLabels(status.group), status.term.rawValue) }
        writer.family("mom_raft_role", .gauge, help: "1 for this node's current Raft role in the group, 0 for the others.")
        for status in groups {
            for role in Self.roles {
                writer.sample("mom_raft_role", groupLabels(status.group) + [("role", role.description)], status.role == role ? 1 : 0)
            }
        }
        writer.family("mom_raft_commit_index", .gauge, help: "Highest log index known committed in the group (the high watermark plus one for partitions).")
        for status in groups { writer.sample("mom_raft_commit_index", groupLabels(status.group), status.commit.rawValue) }
        writer.family("mom_raft_follower_lag_entries", .gauge, help: "Entries each follower is behind the leader's last index; reported by the leader only.")
        for status in groups where status.role == .leader {
            for follower in status.followerLag.keys.sorted() {
                writer.sample("mom_raft_follower_lag_entries", groupLabels(status.group) + [("follower", "\(follower.rawValue)")], status.followerLag[follower]!)
            }
        }
        writer.family("mom_raft_leader_changes_total", .counter, help: "Times this node saw the group's leader change since the group started here.")
        for status in groups { writer.sample("mom_raft_leader_changes_total", groupLabels(status.group), status.leaderChanges) }
    }

    private func renderStorage(_ metrics: NodeMetrics, into writer: inout ExpositionWriter) {
        writer.family("mom_segment_count", .gauge, help: "Segment files of each group's log on this node.")
        for entry in storage ?? [] { writer.sample("mom_segment_count", groupLabels(entry.group), UInt64(entry.segmentCount)) }
        writer.family("mom_segment_bytes", .gauge, help: "Bytes in the segment files of each group's log on this node.")
        for entry in storage ?? [] { writer.sample("mom_segment_bytes", groupLabels(entry.group), entry.segmentBytes) }
        writer.family("mom_fdatasync_duration_seconds", .histogram, help: "Duration of each fdatasync of a log segment or state file, and of each group-commit syncfs.")
        writer.histogram("mom_fdatasync_duration_seconds", [], metrics.sync.snapshot(), buckets: metrics.sync.buckets)
    }

    private func renderCoordinator(into writer: inout ExpositionWriter) {
        writer.family("mom_coordinator_session_state", .gauge, help: "1 for the current state of the ZooKeeper session (the embedded coordinator reports connected), 0 for the others.")
        for (state, name) in Self.sessionStates {
            writer.sample("mom_coordinator_session_state", [("state", name)], session == state ? 1 : 0)
        }
        writer.family("mom_coordinator_stale", .gauge, help: "1 while membership reads come from the last known state because ZooKeeper is unreachable.")
        writer.sample("mom_coordinator_stale", [], coordinatorIsStale ? 1 : 0)
    }
}
