import CZooKeeper
import Dispatch
import Synchronization

/// What a `ZooKeeperSession` reports to its owner, from libzookeeper's completion thread.
enum ZooKeeperSessionEvent: Sendable {
    /// The link changed; `generation` numbers the handle (a new one after each expiry).
    case state(CoordinatorSessionState, generation: UInt64)
    /// A watch fired on `path` (created, deleted, data changed or children changed).
    case watch(path: String)
}

/// The C edge: one live `zhandle_t` at a time, replaced when the session expires, and the
/// asynchronous C API bridged to async/await. Calls never block the caller's thread: each one
/// queues a request and suspends until libzookeeper's completion thread resumes it.
///
/// Threading rules (libzookeeper-mt): completions and watchers run on the library's completion
/// thread, and must not call the sync API or `zookeeper_close`. So callbacks only copy results and
/// resume continuations, and handles are created and closed on `lifecycle`, a serial queue.
/// Requests are issued under `state`'s lock, and a handle is detached under that lock before it
/// is closed, so no request ever uses a closed handle.
final class ZooKeeperSession: Sendable {
    fileprivate struct State {
        var handle: ZooKeeperHandlePointer?
        var context: Unmanaged<ZooKeeperHandleContext>?
        var generation: UInt64 = 0
        var connection: CoordinatorSessionState = .connecting
        var closed = false
        var onEvent: (@Sendable (ZooKeeperSessionEvent) -> Void)?
    }

    private let state = Mutex(State())
    private let lifecycle = DispatchQueue(label: "mom.zookeeper.lifecycle")
    let connectString: String
    let sessionTimeoutMilliseconds: Int32
    /// The shortest interval between routine re-resolutions of the server list's host names.
    static let resolutionDelayMilliseconds: Int32 = 60_000
    let retryDelayMilliseconds: UInt64

    init(connectString: String, sessionTimeoutMilliseconds: Int32, retryDelayMilliseconds: UInt64) {
        self.connectString = connectString
        self.sessionTimeoutMilliseconds = sessionTimeoutMilliseconds
        self.retryDelayMilliseconds = retryDelayMilliseconds
    }

    /// Creates the first handle; connecting continues in the background. Throws if the library
    /// rejects the connect string.
    func start(onEvent: @escaping @Sendable (ZooKeeperSessionEvent) -> Void) throws(CoordinationError) {
        state.withLock { $0.onEvent = onEvent }
        guard openHandle() else {
            throw .invalidArgument(reason: "libzookeeper rejected connect string '\(connectString)'")
        }
    }

    var connection: CoordinatorSessionState {
        state.withLock { $0.connection }
    }

    /// The current session's ID and password (tests use them to force an expiry).
    func clientID() -> clientid_t? {
        state.withLock { state in state.handle.flatMap { zoo_client_id($0.raw)?.pointee } }
    }

    /// The current session's ID, which ZooKeeper records as the owner of its ephemeral znodes.
    var sessionID: Int64? { clientID()?.client_id }

    /// Creates a handle for the next generation and installs it. Returns false if the library
    /// refused (the caller retries later).
    @discardableResult
    private func openHandle() -> Bool {
        guard let generation = state.withLock({ state -> UInt64? in
            guard !state.closed else { return nil }
            state.generation += 1
            return state.generation
        }) else { return true }
        let context = Unmanaged.passRetained(ZooKeeperHandleContext(session: self, generation: generation))
        let handle = connectString.withCString { host in
            zookeeper_init2(
                host, zooKeeperWatcher, sessionTimeoutMilliseconds, nil, context.toOpaque(), 0, zooKeeperLogLine)
        }
        guard let handle else {
            context.release()
            return false
        }
        // By default the client resolves the server list with getaddrinfo every time it polls
        // its socket: a few percent of a core on an idle broker (docs/performance.md §10).
        // Resolve routinely at most once a minute; a lost connection still re-resolves at once.
        _ = zoo_set_servers_resolution_delay(handle, Self.resolutionDelayMilliseconds)
        let installed = state.withLock { state -> Bool in
            guard !state.closed, state.generation == generation else { return false }
            state.handle = ZooKeeperHandlePointer(raw: handle)
            state.context = context
            return true
        }
        guard installed else {
            zookeeper_close(handle)
            context.release()
            return true
        }
        // The session may have connected before the handle was installed, when requests made on
        // the connected event could not find it; announce the connection again.
        if zoo_state(handle) == ZOO_CONNECTED_STATE {
            deliver(.state(.connected, generation: generation))
        }
        return true
    }

    /// Runs on the completion thread for every session event and fired watch of a handle.
    fileprivate func handleWatcher(generation: UInt64, type: Int32, sessionState: Int32, path: String?) {
        guard type == ZOO_SESSION_EVENT else {
            if let path { deliver(.watch(path: path)) }
            return
        }
        let reported: CoordinatorSessionState =
            if sessionState == ZOO_CONNECTED_STATE { .connected }
            else if sessionState == ZOO_EXPIRED_SESSION_STATE || sessionState == ZOO_AUTH_FAILED_STATE { .expired }
            else { .disconnected }
        let outcome = state.withLock { state -> (accepted: Bool, detached: ZooKeeperDetachedHandle?) in
            guard !state.closed, state.generation == generation else { return (false, nil) }
            if reported == .expired {
                state.connection = .expired
                return (true, state.detachHandle())
            }
            // Before the first connection, a failed attempt is still "connecting".
            if !(reported == .disconnected && state.connection == .connecting) {
                state.connection = reported
            }
            return (true, nil)
        }
        guard outcome.accepted else { return }
        if let detached = outcome.detached {
            // Not here: zookeeper_close must not run on the library's own thread.
            lifecycle.async { [weak self] in
                detached.close()
                self?.reopenAfterExpiry()
            }
        }
        deliver(.state(reported, generation: generation))
    }

    private func reopenAfterExpiry() {
        if !openHandle() {
            lifecycle.asyncAfter(deadline: .now() + .milliseconds(Int(retryDelayMilliseconds))) { [weak self] in
                self?.reopenAfterExpiry()
            }
        }
    }

    private func deliver(_ event: ZooKeeperSessionEvent) {
        let onEvent = state.withLock { $0.onEvent }
        onEvent?(event)
    }

    /// Closes the session: the ensemble deletes its ephemeral znodes now rather than after the
    /// timeout. Pending requests complete with ZCLOSING. Suspends until the handle is closed.
    func close() async {
        let detached = state.withLock { state -> ZooKeeperDetachedHandle? in
            state.closed = true
            state.connection = .closed
            state.onEvent = nil
            return state.detachHandle()
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            lifecycle.async {
                detached?.close()
                continuation.resume()
            }
        }
    }

    deinit {
        let detached = state.withLock { $0.detachHandle() }
        if let detached {
            DispatchQueue.global().async { detached.close() }
        }
    }

    /// Issues one asynchronous C call and suspends until its completion runs. `call` receives
    /// the live handle and the completion token; it runs under the lock and must only queue.
    func issue(_ call: (OpaquePointer, UnsafeRawPointer) -> Int32) async -> ZooKeeperReply {
        await withCheckedContinuation { (continuation: CheckedContinuation<ZooKeeperReply, Never>) in
            let token = UnsafeRawPointer(Unmanaged.passRetained(ZooKeeperCompletion(continuation)).toOpaque())
            let code = state.withLock { state -> Int32 in
                guard let handle = state.handle else {
                    return state.closed ? ZooKeeperStatus.closing.code : ZooKeeperStatus.connectionLoss.code
                }
                return call(handle.raw, token)
            }
            if code != ZooKeeperStatus.ok.code {
                // Not queued, so the library will never call the completion: complete it here.
                ZooKeeperCompletion.complete(token, with: ZooKeeperReply(status: ZooKeeperStatus(code: code)))
            }
        }
    }
}

private extension ZooKeeperSession.State {
    mutating func detachHandle() -> ZooKeeperDetachedHandle? {
        defer {
            handle = nil
            context = nil
        }
        guard let handle, let context else { return nil }
        return ZooKeeperDetachedHandle(handle: handle.raw, context: context)
    }
}

/// A live `zhandle_t`. Sendable because it is only used under the session's lock (requests)
/// or after being detached from it (close), never both.
struct ZooKeeperHandlePointer: @unchecked Sendable {
    let raw: OpaquePointer
}

/// A handle no request can reach any more, on its way to `zookeeper_close`. Sendable because it
/// is owned by exactly one closer once detached.
struct ZooKeeperDetachedHandle: @unchecked Sendable {
    let handle: OpaquePointer
    let context: Unmanaged<ZooKeeperHandleContext>

    /// Blocks until the library's threads are joined; call on `lifecycle`, never on its threads.
    func close() {
        zookeeper_close(handle)
        // After zookeeper_close no watcher can run, so the watcher context can go.
        context.release()
    }
}

/// The watcher context of one handle: which session and which generation it belongs to.
/// Retained while the handle lives, released after `zookeeper_close`.
final class ZooKeeperHandleContext: Sendable {
    weak let session: ZooKeeperSession?
    let generation: UInt64

    init(session: ZooKeeperSession, generation: UInt64) {
        self.session = session
        self.generation = generation
    }
}

/// The global watcher of every handle. Runs on libzookeeper's completion thread.
private func zooKeeperWatcher(
    _ handle: OpaquePointer?, _ type: Int32, _ sessionState: Int32, _ path: UnsafePointer<CChar>?,
    _ context: UnsafeMutableRawPointer?
) {
    guard let context else { return }
    let owner = Unmanaged<ZooKeeperHandleContext>.fromOpaque(context).takeUnretainedValue()
    let path = path.map { String(cString: $0) }
    owner.session?.handleWatcher(generation: owner.generation, type: type, sessionState: sessionState, path: path)
}
