import MOMCore

/// Producing a Ready and acknowledging it (etcd's RawNode.Ready / Advance).
extension RawNode {
    /// Whether `ready()` would return anything worth handling. False while a Ready is out.
    public func hasReady() -> Bool {
        if readyOutstanding { return false }
        if core.softState != previousSoftState { return true }
        let hardState = core.hardState
        if !hardState.isEmpty && hardState != previousHardState { return true }
        if core.log.unstable.snapshot != nil || !core.log.unstable.entries.isEmpty { return true }
        if !core.messages.isEmpty || !core.readStates.isEmpty { return true }
        return core.log.hasCommittedEntriesToApply
    }

    /// Collects everything to persist, send and apply. Call `advance(_:)` with it before the
    /// next `ready()`.
    public func ready() -> Ready {
        precondition(!readyOutstanding, "ready() called twice without advance()")
        readyOutstanding = true
        var ready = Ready()
        let softState = core.softState
        if softState != previousSoftState {
            ready.softState = softState
            previousSoftState = softState
        }
        let hardState = core.hardState
        if hardState != previousHardState {
            ready.hardState = hardState
            ready.mustSync = hardState.term != previousHardState.term || hardState.vote != previousHardState.vote
            previousHardState = hardState
        }
        ready.entries = core.log.unstable.entries
        ready.snapshot = core.log.unstable.snapshot
        ready.committedEntries = core.log.committedEntriesToApply()
        ready.messages = core.messages
        ready.readStates = core.readStates
        core.messages = []
        core.readStates = []
        // Lost entries or a lost snapshot break safety just as a lost vote does.
        if !ready.entries.isEmpty || ready.snapshot != nil { ready.mustSync = true }
        return ready
    }

    /// The application persisted `ready`'s snapshot, entries and hard state, sent its messages
    /// and applied its committed entries. Config changes among them take effect now.
    public func advance(_ ready: Ready) { advance(ready, entriesDurable: true) }

    /// Asynchronous storage writes (etcd's AsyncStorageWrites): with `entriesDurable` false the
    /// application has written the Ready's entries but their sync is still running. They are
    /// readable from storage and appliable once committed, but a leader does not count itself
    /// toward their commit until `acknowledgeDurable(upTo:term:)` says the sync finished. The
    /// application also holds the Ready's messages that vouch for durability (append and vote
    /// responses) until then.
    public func advance(_ ready: Ready, entriesDurable: Bool) {
        precondition(readyOutstanding, "advance() without a ready()")
        readyOutstanding = false
        if let snapshot = ready.snapshot {
            core.log.unstable.stableSnapshotTo(index: snapshot.metadata.index)
            core.log.appliedSnapshot(snapshot)
        }
        if let last = ready.entries.last {
            core.log.unstable.stableTo(index: last.index, term: last.term)
        }
        if let lastCommitted = ready.committedEntries.last {
            core.log.applied(to: lastCommitted.index)
            if core.role == .leader {
                core.uncommittedBytes = max(0, core.uncommittedBytes - ready.committedEntries.payloadBytes)
            }
            for entry in ready.committedEntries where entry.kind == .configChange {
                guard let change = try? ConfigChange.decode(entry.data) else {
                    preconditionFailure("committed config change at \(entry.index) does not decode")
                }
                core.applyConfigChange(change, at: entry.index)
            }
        }
        if entriesDurable {
            core.log.markSynced(upTo: core.log.stableLastIndex)
            if !ready.entries.isEmpty { core.acknowledgeOwnAppend(upTo: core.log.stableLastIndex) }
        }
        core.checkInvariants()
    }

    /// A sync that started after entries up to (`index`, `term`) were written has finished:
    /// they may now be applied here once committed, and a leader counts itself toward their
    /// commit. Nothing happens when the log no longer holds that entry (replaced since: the
    /// sync covered other entries). Returns whether it counted (the node may then have a Ready).
    @discardableResult
    public func acknowledgeDurable(upTo index: LogIndex, term: Term) -> Bool {
        guard index <= core.log.stableLastIndex, core.log.term(at: index) == term else { return false }
        core.log.markSynced(upTo: index)
        core.acknowledgeOwnAppend(upTo: index)
        core.checkInvariants()
        return true
    }

    /// A full view of the node, including per-peer progress when it leads.
    public var status: Status {
        var progress: [NodeID: PeerProgress] = [:]
        if core.role == .leader {
            for (peer, entry) in core.tracker.progress { progress[peer] = entry.publicView }
        }
        return Status(
            id: core.id, hardState: core.hardState, softState: core.softState, applied: core.log.applied,
            lastIndex: core.log.lastIndex, firstIndex: core.log.firstIndex,
            configuration: core.tracker.configuration, configurationIndex: core.configurationIndex, leadTransferee: core.leadTransferee, progress: progress)
    }

    /// Leader and role only: cheap enough to poll every tick.
    public var basicStatus: SoftState { core.softState }

    /// Single fields of `status`, for the per-proposal and per-pass paths: `status` copies the
    /// leader's per-peer progress into a new dictionary on every read.
    public var lastIndex: LogIndex { core.log.lastIndex }
    public var term: Term { core.term }
    public var commitIndex: LogIndex { core.log.committed }
    public var appliedIndex: LogIndex { core.log.applied }
}
