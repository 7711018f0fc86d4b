import CZooKeeper

/// A ZooKeeper C API result code (`ZOO_ERRORS`), with the few cases MOM tells apart.
struct ZooKeeperStatus: Hashable, Sendable, CustomStringConvertible {
    let code: Int32

    static let ok = ZooKeeperStatus(code: ZOK.rawValue)
    static let noNode = ZooKeeperStatus(code: ZNONODE.rawValue)
    static let nodeExists = ZooKeeperStatus(code: ZNODEEXISTS.rawValue)
    static let badVersion = ZooKeeperStatus(code: ZBADVERSION.rawValue)
    static let connectionLoss = ZooKeeperStatus(code: ZCONNECTIONLOSS.rawValue)
    static let closing = ZooKeeperStatus(code: ZCLOSING.rawValue)
    static let invalidState = ZooKeeperStatus(code: ZINVALIDSTATE.rawValue)

    var isOK: Bool { self == .ok }

    var description: String {
        guard let text = zerror(code) else { return "ZooKeeper error \(code)" }
        return String(cString: text) + " (\(code))"
    }
}

/// The parts of a znode's `Stat` that MOM reads.
struct ZooKeeperStat: Hashable, Sendable {
    /// Data version: bumped by every set; what compare-and-set compares.
    var version: Int32
    /// The session that owns an ephemeral znode, 0 for a persistent one.
    var ephemeralOwner: Int64

    init(_ stat: Stat) {
        version = stat.version
        ephemeralOwner = stat.ephemeralOwner
    }
}

/// What an asynchronous C call hands to its completion, copied out of the library's buffers
/// (they are freed when the completion returns).
struct ZooKeeperReply: Sendable {
    var status: ZooKeeperStatus
    var data: [UInt8] = []
    var names: [String] = []
    var stat: ZooKeeperStat?
}

/// Carries one continuation through the C API's `const void *data` argument. Retained when the
/// call is issued, released exactly once: by the completion, or by the issuer if the call fails
/// before it is queued (the library then never calls the completion).
final class ZooKeeperCompletion: Sendable {
    private let continuation: CheckedContinuation<ZooKeeperReply, Never>

    init(_ continuation: CheckedContinuation<ZooKeeperReply, Never>) {
        self.continuation = continuation
    }

    /// Called from a C completion on libzookeeper's completion thread: resume and release.
    /// Resuming only schedules the waiting task, so the library's thread is not held.
    static func complete(_ token: UnsafeRawPointer?, with reply: ZooKeeperReply) {
        guard let token else { preconditionFailure("ZooKeeper completion without its context") }
        let completion = Unmanaged<ZooKeeperCompletion>.fromOpaque(token).takeRetainedValue()
        completion.continuation.resume(returning: reply)
    }
}

// The C trampolines. They run on libzookeeper's completion thread; they copy the result and
// resume a continuation, nothing else (never the sync API, never zookeeper_close).

func zooKeeperVoidCompletion(_ code: Int32, _ token: UnsafeRawPointer?) {
    ZooKeeperCompletion.complete(token, with: ZooKeeperReply(status: ZooKeeperStatus(code: code)))
}

func zooKeeperStatCompletion(_ code: Int32, _ stat: UnsafePointer<Stat>?, _ token: UnsafeRawPointer?) {
    var reply = ZooKeeperReply(status: ZooKeeperStatus(code: code))
    if let stat { reply.stat = ZooKeeperStat(stat.pointee) }
    ZooKeeperCompletion.complete(token, with: reply)
}

func zooKeeperStringCompletion(_ code: Int32, _ value: UnsafePointer<CChar>?, _ token: UnsafeRawPointer?) {
    var reply = ZooKeeperReply(status: ZooKeeperStatus(code: code))
    if let value { reply.names = [String(cString: value)] }
    ZooKeeperCompletion.complete(token, with: reply)
}

func zooKeeperDataCompletion(
    _ code: Int32, _ value: UnsafePointer<CChar>?, _ length: Int32, _ stat: UnsafePointer<Stat>?,
    _ token: UnsafeRawPointer?
) {
    var reply = ZooKeeperReply(status: ZooKeeperStatus(code: code))
    if let value, length > 0 {
        reply.data = Array(UnsafeRawBufferPointer(start: value, count: Int(length)))
    }
    if let stat { reply.stat = ZooKeeperStat(stat.pointee) }
    ZooKeeperCompletion.complete(token, with: reply)
}

func zooKeeperChildrenCompletion(
    _ code: Int32, _ strings: UnsafePointer<String_vector>?, _ stat: UnsafePointer<Stat>?,
    _ token: UnsafeRawPointer?
) {
    var reply = ZooKeeperReply(status: ZooKeeperStatus(code: code))
    if let strings, let names = strings.pointee.data {
        let count = Int(max(0, strings.pointee.count))
        reply.names.reserveCapacity(count)
        for index in 0..<count {
            if let name = names[index] { reply.names.append(String(cString: name)) }
        }
    }
    if let stat { reply.stat = ZooKeeperStat(stat.pointee) }
    ZooKeeperCompletion.complete(token, with: reply)
}
