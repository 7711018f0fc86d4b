import CEpoll
import Glibc

/// A thin epoll wrapper. Each registration carries a 64-bit token the caller maps back to its
/// connection; edge or level triggering is the caller's choice through `events`.
public struct Epoll: ~Copyable {
    public let descriptor: FileDescriptor

    /// The interest bits, as epoll spells them.
    public struct Events: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let readable = Events(rawValue: EPOLLIN.rawValue)
        public static let writable = Events(rawValue: EPOLLOUT.rawValue)
        public static let hangup = Events(rawValue: EPOLLHUP.rawValue)
        public static let readHangup = Events(rawValue: EPOLLRDHUP.rawValue)
        public static let error = Events(rawValue: EPOLLERR.rawValue)
        public static let edgeTriggered = Events(rawValue: EPOLLET.rawValue)
    }

    /// One readiness report.
    public struct Event: Sendable {
        public let token: UInt64
        public let events: Events
    }

    public init() throws(Errno) {
        descriptor = FileDescriptor(rawValue: try syscall { epoll_create1(Int32(EPOLL_CLOEXEC)) })
    }

    deinit { try? descriptor.close() }

    public func add(_ fd: FileDescriptor, events: Events, token: UInt64) throws(Errno) {
        try control(EPOLL_CTL_ADD, fd, events, token)
    }

    public func modify(_ fd: FileDescriptor, events: Events, token: UInt64) throws(Errno) {
        try control(EPOLL_CTL_MOD, fd, events, token)
    }

    public func remove(_ fd: FileDescriptor) {
        var unused = epoll_event()
        _ = epoll_ctl(descriptor.rawValue, EPOLL_CTL_DEL, fd.rawValue, &unused)
    }

    private func control(_ operation: Int32, _ fd: FileDescriptor, _ events: Events, _ token: UInt64) throws(Errno) {
        var event = epoll_event()
        event.events = events.rawValue
        event.data.u64 = token
        _ = try syscall { epoll_ctl(descriptor.rawValue, operation, fd.rawValue, &event) }
    }

    /// Waits up to `timeoutMilliseconds` (-1 forever) and calls `handle` for each ready
    /// registration, at most `maxEvents` per call. Returns how many were handled.
    @discardableResult
    public func wait(timeoutMilliseconds: Int32, maxEvents: Int = 256, _ handle: (Event) -> Void) throws(Errno) -> Int {
        precondition(maxEvents > 0 && maxEvents <= 4096, "maxEvents out of range")
        return try withUnsafeTemporaryAllocation(of: epoll_event.self, capacity: maxEvents) { buffer throws(Errno) -> Int in
            var count: Int32
            while true {
                count = epoll_wait(descriptor.rawValue, buffer.baseAddress, Int32(maxEvents), timeoutMilliseconds)
                if count >= 0 { break }
                let failure = Errno.current
                if failure == .interrupted { return 0 }
                throw failure
            }
            for i in 0..<Int(count) {
                handle(Event(token: buffer[i].data.u64, events: Events(rawValue: buffer[i].events)))
            }
            return Int(count)
        }
    }
}

/// An eventfd: another thread's way to wake an event loop blocked in `epoll_wait`.
public struct EventNotifier: Sendable {
    public let descriptor: FileDescriptor

    public init() throws(Errno) {
        descriptor = FileDescriptor(rawValue: try syscall { eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC)) })
    }

    /// Wakes the loop. Safe from any thread; repeated signals coalesce.
    public func signal() {
        var one: UInt64 = 1
        _ = Glibc.write(descriptor.rawValue, &one, 8)
    }

    /// Clears pending signals (called by the loop when the eventfd is readable).
    public func drain() {
        var value: UInt64 = 0
        _ = Glibc.read(descriptor.rawValue, &value, 8)
    }

    public func close() { try? descriptor.close() }
}
