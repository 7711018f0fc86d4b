/// Typed identifiers. Distinct numbers get distinct types so that an offset can never be
/// passed where a log index is expected (STYLE.md habit 6). None is a bare integer in an API.

/// A broker node in the cluster, as named by `--node-id`.
public struct NodeID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    @inlinable public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    @inlinable public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "n\(rawValue)" }
}

/// A Raft group: one per partition, plus `__meta`.
public struct GroupID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    @inlinable public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    @inlinable public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "g\(rawValue)" }
}

/// A Raft term. Monotonic per group; zero means "no term yet".
public struct Term: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    @inlinable public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    @inlinable public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public static let zero = Term(0)
    @inlinable public var next: Term { Term(rawValue + 1) }
    public var description: String { "t\(rawValue)" }
}

/// A position in a Raft log. Index 0 is the empty prefix; the first entry is index 1.
public struct LogIndex: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    @inlinable public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    @inlinable public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public static let zero = LogIndex(0)
    @inlinable public var next: LogIndex { LogIndex(rawValue + 1) }
    @inlinable public var previous: LogIndex {
        precondition(rawValue > 0, "LogIndex.zero has no predecessor")
        return LogIndex(rawValue - 1)
    }
    @inlinable public func advanced(by n: UInt64) -> LogIndex { LogIndex(rawValue + n) }
    public var description: String { "i\(rawValue)" }
}

/// A record's position in a partition log, as clients see it. Offsets start at 0.
public struct Offset: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    @inlinable public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    @inlinable public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public static let zero = Offset(0)
    @inlinable public var next: Offset { Offset(rawValue + 1) }
    @inlinable public func advanced(by n: UInt64) -> Offset { Offset(rawValue + n) }
    /// Records between `self` (inclusive) and `end` (exclusive).
    @inlinable public func distance(to end: Offset) -> UInt64 {
        precondition(end >= self, "distance to an earlier offset")
        return end.rawValue - rawValue
    }
    public var description: String { "\(rawValue)" }
}
