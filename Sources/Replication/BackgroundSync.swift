import MOMCore
import SystemIO

/// A finished background sync.
struct FinishedSync: Equatable {
    /// Every ticket up to this one is covered.
    let throughTicket: UInt64
    /// A failed sync may have lost any write of the tickets it covers.
    let error: Errno?
}

/// Where the syncs of asynchronous storage writes run: `BackgroundSync` (a thread of its own)
/// or `SteppedSync` (the loop thread, for a single-threaded simulated file system).
protocol SyncEngine: AnyObject {
    /// Loop thread: asks for a sync covering every write made so far; returns its ticket.
    /// `file`, when given, is the only file written since the last request; the sync closes it.
    func request(file: (any FileSyncHandle)?) -> UInt64
    /// Loop thread: the syncs finished since the last call, oldest first.
    func takeFinished() -> [FinishedSync]
    /// Loop thread: returns once every requested sync has finished. The loop calls it before
    /// it rewrites a log (truncation, snapshot), so no sync is running while it does.
    func waitForAll()
    /// Finishes the requested syncs; call once the loop asks for no more.
    func stop()
    /// Whether requested syncs finish only when the loop asks (it must then not sleep).
    var needsPass: Bool { get }
}

extension SyncEngine {
    /// A sync of every file written so far.
    func request() -> UInt64 { request(file: nil) }
}

/// The sync half of asynchronous storage writes (etcd 3.6's AsyncStorageWrites): one thread
/// runs whole-file-system syncs (syncfs) while the loop goes on appending, stepping and
/// replicating, so the disk's sync time overlaps the loop's CPU work instead of stalling it.
///
/// The loop asks for a sync after a pass that wrote entries and gets a ticket. A sync covers
/// every ticket asked for before it started, so the tickets of the passes that ran during one
/// sync share the next (group commit across passes as well as across groups). The loop reads
/// finished syncs back (`takeFinished`) and only then acknowledges their entries and sends the
/// messages that waited for them.
///
/// A pass that wrote one log hands over a descriptor of that log's file (`FileSyncHandle`, a
/// dup): when every request a sync covers names its file and they are a few files, the thread
/// fdatasyncs just those, which costs less than syncfs (it flushes nothing else of the file
/// system). Otherwise it runs syncfs. Either way the thread touches no log's state, so the
/// logs stay the loop's alone.
final class BackgroundSync: SyncEngine, @unchecked Sendable {
    typealias Finished = FinishedSync

    private let fileSystemSync: any FileSystemSync
    private let wake: @Sendable () -> Void
    private let lock = ConditionMutex()
    private let clock = SystemClock()
    private var requested: UInt64 = 0
    /// Tickets covered by the sync running now, or by the last one.
    private var started: UInt64 = 0
    private var completed: UInt64 = 0
    /// Finished syncs the loop has not read yet: at most one per sync since its last read.
    private var finished: [Finished] = []
    /// The file of each requested ticket not started yet; nil: that request needs syncfs.
    private var queuedFiles: [(any FileSyncHandle)?] = []
    /// More distinct files than this in one sync: one syncfs costs less than their fdatasyncs.
    static let filesPerSyncMax = 4
    private var stopping = false
    private var thread: OSThread?

    /// `wake` is called after each sync, from the sync thread, to wake the loop.
    init(fileSystemSync: any FileSystemSync, wake: @escaping @Sendable () -> Void) {
        self.fileSystemSync = fileSystemSync
        self.wake = wake
    }

    var needsPass: Bool { false }

    func request(file: (any FileSyncHandle)?) -> UInt64 {
        if thread == nil { thread = OSThread.start(name: "mom-sync") { [self] in run() } }
        let ticket = lock.withLock { () -> UInt64 in
            precondition(!stopping, "sync requested after stop")
            requested += 1
            queuedFiles.append(file)
            return requested
        }
        lock.broadcast()
        return ticket
    }

    func takeFinished() -> [Finished] {
        lock.withLock {
            defer { finished.removeAll(keepingCapacity: true) }
            return finished
        }
    }

    func waitForAll() {
        lock.lock()
        while completed < requested { lock.wait(untilMonotonicNanoseconds: clock.monotonicNanoseconds() + 1_000_000_000) }
        lock.unlock()
    }

    func stop() {
        lock.withLock { stopping = true }
        lock.broadcast()
        thread?.join()
        thread = nil
    }

    private func run() {
        while true {
            lock.lock()
            while started == requested && !stopping {
                lock.wait(untilMonotonicNanoseconds: clock.monotonicNanoseconds() + 1_000_000_000)
            }
            if started == requested {
                lock.unlock()
                return
            }
            let through = requested
            started = through
            let files = queuedFiles
            queuedFiles.removeAll(keepingCapacity: true)
            lock.unlock()
            let failure = sync(files)
            for file in files { file?.close() }
            lock.withLock {
                finished.append(Finished(throughTicket: through, error: failure))
                completed = through
            }
            lock.broadcast()
            wake()
        }
    }

    /// fdatasync of the requests' files when each named one and they are few; else syncfs.
    private func sync(_ files: [(any FileSyncHandle)?]) -> Errno? {
        var distinct: [FileIdentity: any FileSyncHandle] = [:]
        for file in files {
            guard let file, let identity = try? file.identity() else { return syncWholeFileSystem() }
            if distinct[identity] == nil { distinct[identity] = file }
            if distinct.count > Self.filesPerSyncMax { return syncWholeFileSystem() }
        }
        do {
            for file in distinct.values { try file.dataSync() }
        } catch {
            return error
        }
        return nil
    }

    private func syncWholeFileSystem() -> Errno? {
        do { try fileSystemSync.sync() } catch { return error }
        return nil
    }
}
