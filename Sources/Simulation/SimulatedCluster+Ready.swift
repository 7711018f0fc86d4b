import MOMCore
import Raft

/// The host's Ready pipeline, crashes and restarts.
extension SimulatedCluster {
    /// Persist, sync when required, send, apply, advance, optionally crashing in between.
    func handleReady(_ node: SimulatedNode, raw: RawNode, crashAt crashPoint: CrashPoint?, downTicksMax: UInt64) throws {
        let ready = raw.ready()
        var crashPoint = crashPoint
        if node.leaderTerm != nil, let hardState = ready.hardState, hardState.commit > node.recordedCommit,
           chance(leaderCommitCrashPercent, in: 100) {
            // Before sending: the followers learn neither the new commit index nor the entries
            // after it, yet the leader has decided that the entries are committed.
            crashPoint = .afterSync
        }
        // Asynchronous writes: no sync may be running while a log is rewritten.
        if asyncStorageWrites && rewritesLog(ready, of: node) { try finishSync(node) }
        node.storage.write(snapshot: ready.snapshot, entries: ready.entries, hardState: ready.hardState)
        recordCommitted(node, hardState: ready.hardState)
        if let term = node.leaderTerm, node.completenessCheckedTerm != term {
            node.completenessCheckedTerm = term
            checker.checkLeaderCompleteness(leader: node.id, term: term, log: node.storage.written)
        }
        if crashPoint == .afterWrite { return crash(node, downTicksMax: downTicksMax) }
        if asyncStorageWrites {
            // What the host makes durable at once: an installed snapshot (its own syncs), term
            // and vote (an atomic file). Entries wait for the background sync.
            if ready.snapshot != nil {
                node.storage.sync()
            } else if ready.mustSync, let hardState = ready.hardState, hardState.term != node.storage.durable.hardState.term || hardState.vote != node.storage.durable.hardState.vote {
                node.storage.syncHardState()
            }
            if let last = ready.entries.last {
                var pending = node.pendingSync ?? PendingSimulatedSync(index: last.index, term: last.term)
                pending.index = last.index
                pending.term = last.term
                node.pendingSync = pending
            }
        } else if ready.mustSync {
            node.storage.sync()
        }
        if crashPoint == .afterSync { return crash(node, downTicksMax: downTicksMax) }
        for message in ready.messages {
            guard let to = position(of: message.to), message.to != node.id else { continue }
            if asyncStorageWrites, node.pendingSync != nil, message.kind.vouchesForDurability {
                node.pendingSync!.held.append(message)
                continue
            }
            network.send(message, from: node.position, to: to, now: now, random: &random)
        }
        if crashPoint == .afterSend { return crash(node, downTicksMax: downTicksMax) }
        if let snapshot = ready.snapshot {
            snapshotsInstalled += 1
            restoreStateMachine(node, from: snapshot)
        }
        let term = ready.hardState?.term ?? node.storage.written.hardState.term
        for entry in ready.committedEntries {
            checker.observeApplied(entry, by: node.id, previous: node.stateMachine.appliedIndex, nodeTerm: term)
            node.stateMachine.apply(entry)
            if entry.kind == .configChange { configChangesApplied += 1 }
        }
        if crashPoint == .afterApply { return crash(node, downTicksMax: downTicksMax) }
        raw.advance(ready, entriesDurable: !asyncStorageWrites)
        try observeRole(node)
    }

    /// Asynchronous writes: the node's background sync finishes. Everything written is now
    /// durable, the node counts itself for it, and the messages that waited go out.
    func finishSync(_ node: SimulatedNode) throws {
        guard let pending = node.pendingSync, let raw = node.raw else { return }
        node.pendingSync = nil
        node.storage.sync()
        raw.acknowledgeDurable(upTo: pending.index, term: pending.term)
        for message in pending.held {
            guard let to = position(of: message.to) else { continue }
            network.send(message, from: node.position, to: to, now: now, random: &random)
        }
        try observeRole(node)
    }

    /// Whether a Ready rewrites what the log holds (a conflict's truncation, a snapshot).
    func rewritesLog(_ ready: Ready, of node: SimulatedNode) -> Bool {
        if ready.snapshot != nil { return true }
        guard let first = ready.entries.first else { return false }
        return first.index <= node.storage.written.lastIndex
    }

    /// Records the entries this node now claims committed (up to its new commit index), so the
    /// checker can compare them with every other node's claims, before and after crashes.
    func recordCommitted(_ node: SimulatedNode, hardState: HardState?) {
        guard let hardState, hardState.commit > node.recordedCommit else { return }
        let log = node.storage.written
        var index = max(node.recordedCommit, log.snapshotIndex).next
        while index <= hardState.commit {
            guard let entry = log.entry(at: index) else {
                checker.fail(.stateMachineSafety, "\(node.id) reports commit \(hardState.commit) beyond its log end \(log.lastIndex)")
                break
            }
            checker.observeCommitted(entry, by: node.id, nodeTerm: hardState.term)
            index = index.next
        }
        node.recordedCommit = hardState.commit
    }

    func restoreStateMachine(_ node: SimulatedNode, from snapshot: Snapshot) {
        guard let restored = StateMachine(snapshot: snapshot) else {
            checker.fail(.stateMachineSafety, "\(node.id) received a snapshot at \(snapshot.metadata.index) whose data is not a state")
            return
        }
        node.stateMachine = restored
        checker.observeRestored(node.id, index: snapshot.metadata.index, digest: restored.digest)
    }

    // MARK: Crash and restart

    /// Power loss: the RawNode and the state machine vanish, unsynced writes are lost, and
    /// messages already on the wire stay there.
    public func crash(_ id: NodeID, downTicksMax: UInt64) {
        guard let position = position(of: id), nodes[position].isUp else { return }
        crash(nodes[position], downTicksMax: downTicksMax)
    }

    func crash(_ node: SimulatedNode, downTicksMax: UInt64) {
        node.raw = nil
        node.pendingSync = nil
        node.leaderTerm = nil
        node.storage.crash()
        node.restartTick = now + 1 + random.uniform(below: max(downTicksMax, 1))
        crashes += 1
    }

    /// Restarts every crashed node now (healing).
    public func restartAll() throws {
        for node in nodes where !node.isUp { try start(node) }
    }

    func restartDueNodes() throws {
        for node in nodes where !node.isUp && node.restartTick <= now { try start(node) }
    }

    /// Boots the node from its disk: the state machine restarts from the snapshot, and the
    /// committed entries after it are applied again as Raft hands them out.
    func start(_ node: SimulatedNode) throws {
        let image = node.storage.written
        restoreStateMachine(node, from: image.snapshot)
        node.config.applied = image.snapshotIndex
        node.recordedCommit = image.snapshotIndex
        node.completenessCheckedTerm = nil
        checker.checkCommittedPrefix(of: node.id, log: image)
        node.raw = try RawNode(config: node.config, storage: node.storage, random: SeededRandom(seed: random.next()))
        try observeRole(node)
    }
}
