import Dispatch
import MOMCore

/// Keeping the session's promises: after every (re)connection, the parents exist, the
/// registration exists and every watch is armed; after every fired watch, watchers get a fresh
/// snapshot. Events only mark work pending (on libzookeeper's thread, in O(1)); one task does it.
extension ZooKeeperCoordinator {
    /// Runs on libzookeeper's completion thread: mark work and wake the task, nothing more.
    func handle(_ event: ZooKeeperSessionEvent) {
        let wake = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            switch event {
            case .state(.connected, _):
                state.markAllPending()
                return true
            case .state:
                return false
            case .watch(let path):
                switch layout.subject(ofPath: path) {
                case .nodes where state.nodeWatchers.count > 0:
                    state.pending.nodes = true
                case .group(let group) where state.groupWatchers.contains(group):
                    state.pending.groups.insert(group)
                default:
                    return false
                }
                return true
            }
        }
        if wake { wakeups.yield() }
    }

    /// Does everything pending. Work that fails because the connection dropped is not retried
    /// here: the next connected event marks it pending again.
    func performPendingWork() async {
        let work = state.withLock { state in
            defer { state.pending = .init() }
            return state.pending
        }
        if work.parents, await ensureParents() != nil { return }
        if work.registration { await restoreRegistration() }
        if work.nodes { await refreshNodes() }
        for group in work.groups.sorted() { await refreshGroup(group) }
    }

    private func restoreRegistration() async {
        guard let current = state.withLock({ $0.registration }) else { return }
        switch await createRegistration(current.node, current.registration) {
        case nil, .unavailable?, .closed?:
            return
        case .some:
            // Another session holds the node: most likely our expired one, whose ephemeral
            // ZooKeeper has not deleted yet. Try again after a delay.
            scheduleRegistrationRetry()
        }
    }

    private func scheduleRegistrationRetry() {
        let schedule = state.withLock { state -> Bool in
            guard !state.closed, !state.retryScheduled else { return false }
            state.retryScheduled = true
            return true
        }
        guard schedule else { return }
        let delay = DispatchTimeInterval.milliseconds(Int(configuration.retryDelayMilliseconds))
        DispatchQueue.global().asyncAfter(deadline: .now() + delay) { [weak self] in
            guard let self else { return }
            self.state.withLock { state in
                state.retryScheduled = false
                state.pending.registration = state.registration != nil
            }
            self.wakeups.yield()
        }
    }

    private func refreshNodes() async {
        guard state.withLock({ $0.nodeWatchers.count > 0 }) else { return }
        guard case .success(let read) = await readNodes(watch: true) else { return }
        state.withLock { $0.remember(nodes: read, fromWatch: true) }
    }

    private func refreshGroup(_ group: GroupID) async {
        guard state.withLock({ $0.groupWatchers.contains(group) }) else { return }
        // A record that does not decode is not published: watchers keep the last good one.
        guard case .success(let read) = await readMembership(of: group, watch: true) else { return }
        state.withLock { $0.remember(read, of: group, fromWatch: true) }
    }
}
