import MOMCore
import Raft
import SystemIO

/// Groups whose logs hold writes made without their syncs (`GroupLog.hasDeferredWrites`): a new
/// group's directory, segment files and bootstrap snapshot, and the term or vote a Ready saved.
/// The loop gathers them over a pass and makes them all durable at once, before any message of
/// the pass leaves and before a new group's creation is reported complete. Creating 1,000
/// partitions then costs a node two whole-file-system syncs per pass instead of five syncs per
/// partition on the loop thread (docs/performance.md §14, §22).
///
/// This is the bookkeeping and the choice of method, without I/O (the host does that in
/// `makeDeferredWritesDurable`). Bounded: a group is held at most once, and a batch never
/// outlives its pass.
struct DeferredDurability {
    typealias Completion = @Sendable (Result<Void, Error>) -> Void

    /// How a batch is made durable.
    enum Method: Equatable {
        /// Nothing waits.
        case none
        /// Each log with syncs of its own (fdatasync, rename, directory fsync): one log in the
        /// batch, which is cheaper than flushing the whole file system, or no whole-file-system
        /// sync configured (`--group-commit fdatasync`).
        case eachOnItsOwn
        /// One whole-file-system sync for every log's written files, their renames, and a second
        /// one for the renames.
        case fileSystemSyncs
    }

    struct Waiting {
        let group: GroupReplica
        /// Set for a group being added: its creation completes with the batch.
        var completions: [Completion]
        /// A group being added publishes its status only once its files are durable.
        var isNew: Bool
    }

    private(set) var waiting: [Waiting] = []
    private var positions: [ObjectIdentifier: Int] = [:]

    var isEmpty: Bool { waiting.isEmpty }

    /// Holds `group` until the batch is durable; a group already held is not added twice.
    mutating func add(_ group: GroupReplica, completion: Completion? = nil) {
        let key = ObjectIdentifier(group)
        if let position = positions[key] {
            if let completion {
                waiting[position].completions.append(completion)
                waiting[position].isNew = true
            }
            return
        }
        positions[key] = waiting.count
        waiting.append(Waiting(group: group, completions: completion.map { [$0] } ?? [], isNew: completion != nil))
    }

    /// The held groups, in the order they were added; the batch is empty afterwards.
    mutating func take() -> [Waiting] {
        defer {
            waiting.removeAll(keepingCapacity: true)
            positions.removeAll(keepingCapacity: true)
        }
        return waiting
    }

    static func method(groupCount: Int, hasFileSystemSync: Bool) -> Method {
        if groupCount == 0 { return .none }
        return groupCount >= 2 && hasFileSystemSync ? .fileSystemSyncs : .eachOnItsOwn
    }
}

extension ReplicationHost {
    /// Loop thread, in every pass after the Readies were persisted and before any of their
    /// messages is sent: makes every held group's deferred writes durable. A group whose writes
    /// could not be made durable stops on this node (`fail`), its messages are dropped (it joins
    /// `failed`) and its creation fails; a failed whole-file-system sync fails every group of
    /// the batch, as a failed group commit does.
    func makeDeferredWritesDurable(failed: inout Set<GroupID>) {
        guard !deferredDurability.isEmpty else { return }
        let batch = deferredDurability.take()
        let hosted = batch.filter { groups[$0.group.id] === $0.group }
        var errors: [ObjectIdentifier: Error] = [:]
        switch DeferredDurability.method(groupCount: hosted.count, hasFileSystemSync: settings.fileSystemSync != nil) {
        case .none:
            break
        case .eachOnItsOwn:
            for waiting in hosted {
                do { try waiting.group.log.syncDeferredWrites() } catch { errors[ObjectIdentifier(waiting.group)] = error }
            }
        case .fileSystemSyncs:
            errors = syncTogether(hosted.map(\.group))
        }
        for waiting in batch {
            let group = waiting.group
            let error = errors[ObjectIdentifier(group)]
            let isHosted = groups[group.id] === group
            if let error, isHosted {
                failed.insert(group.id)
                fail(group, error)
            }
            guard isHosted, error == nil else {
                for completion in waiting.completions { completion(.failure(error ?? ReplicationError.unknownGroup(group.id))) }
                continue
            }
            if waiting.isNew { publishStatus(of: group) }
            for completion in waiting.completions { completion(.success(())) }
        }
    }

    /// syncfs (the written files and new directories), renames, syncfs (the renames). Returns
    /// the error of each group that failed.
    private func syncTogether(_ batch: [GroupReplica]) -> [ObjectIdentifier: Error] {
        guard let fileSystemSync = settings.fileSystemSync else { preconditionFailure("no whole-file-system sync") }
        var errors: [ObjectIdentifier: Error] = [:]
        do {
            try fileSystemSync.sync()
            for group in batch {
                do { try group.log.installDeferredWrites() } catch { errors[ObjectIdentifier(group)] = error }
            }
            try fileSystemSync.sync()
        } catch {
            for group in batch where errors[ObjectIdentifier(group)] == nil { errors[ObjectIdentifier(group)] = error }
            return errors
        }
        for group in batch where errors[ObjectIdentifier(group)] == nil { group.log.markDeferredWritesDurable() }
        return errors
    }
}
