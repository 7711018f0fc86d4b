import MOMCore
import Raft
import Replication
import SystemIO

/// Applies the `__meta` group's committed commands to this node's catalog (KRaft-style: every
/// node replays the metadata log). Runs on the replication loop; other threads read the last
/// published catalog, a value copy behind a lock.
final class MetaStateMachine: GroupStateMachine, @unchecked Sendable {
    /// The `__meta` group: always group 0.
    static let group = GroupID(0)

    private let limits: Limits
    /// Loop thread only.
    private var catalog = Catalog()
    /// Outcomes of recently applied commands by index, so a proposer learns whether its
    /// command applied or was refused (validation is deterministic, so every replica agrees).
    private var outcomes: [LogIndex: Result<CatalogOutcome, ModelError>] = [:]
    private var outcomeOrder: [LogIndex] = []
    private let outcomesMax = 4096
    /// Called on the loop thread after each applied command, to start and stop groups, with
    /// the catalog as of that command (the published one lags until the batch is applied).
    private let onChange: (CatalogOutcome, Catalog) -> Void
    private let publishLock = ConditionMutex()
    private var published = Catalog()

    init(limits: Limits, onChange: @escaping (CatalogOutcome, Catalog) -> Void) {
        self.limits = limits
        self.onChange = onChange
    }

    /// The catalog as of the last applied command (any thread).
    var current: Catalog { publishLock.withLock { published } }

    /// Loop thread: what applying the command at `index` did, if still remembered.
    func outcome(at index: LogIndex) -> Result<CatalogOutcome, ModelError>? { outcomes[index] }

    func apply(_ entries: [Entry], group: GroupID) {
        for entry in entries where entry.kind == .normal && !entry.data.isEmpty {
            let result: Result<CatalogOutcome, ModelError>
            do {
                let command = try CatalogCommand.decode(entry.data, limits: limits)
                result = catalog.apply(command)
            } catch {
                // A command this version cannot decode was written by a newer node; refusing it
                // everywhere keeps replicas in agreement.
                result = .failure(.badRequest("undecodable catalog command at \(entry.index): \(error)"))
            }
            remember(result, at: entry.index)
            if case .success(let outcome) = result { onChange(outcome, catalog) }
        }
        let snapshot = catalog
        publishLock.withLock { published = snapshot }
    }

    func restore(_ snapshot: Snapshot, group: GroupID) {
        guard !snapshot.data.isEmpty, let restored = try? CatalogSnapshot.decode(snapshot.data, limits: limits) else { return }
        let before = catalog
        catalog = restored
        publishLock.withLock { published = restored }
        var outcome = CatalogOutcome()
        outcome.createdGroups = restored.groups.filter { before.group($0.group) == nil }
        outcome.removedGroups = before.groups.map(\.group).filter { restored.group($0) == nil }
        outcome.reassignedGroups = restored.groups.filter { now in
            before.group(now.group).map { $0.replicas != now.replicas } ?? false
        }
        onChange(outcome, restored)
    }

    func snapshotData(group: GroupID) -> [UInt8] { CatalogSnapshot.encode(catalog) }

    private func remember(_ result: Result<CatalogOutcome, ModelError>, at index: LogIndex) {
        outcomes[index] = result
        outcomeOrder.append(index)
        if outcomeOrder.count > outcomesMax {
            let drop = outcomeOrder.count - outcomesMax
            for old in outcomeOrder.prefix(drop) { outcomes[old] = nil }
            outcomeOrder.removeFirst(drop)
        }
    }
}
