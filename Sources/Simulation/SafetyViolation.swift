import MOMCore

/// A broken Raft property, found by `SafetyChecker` or by the liveness check. Carries the tick
/// so a replay (`MOM_SEED`) can be stopped just before it.
public struct SafetyViolation: Error, Equatable, Sendable, CustomStringConvertible {
    /// The property of the Raft paper (Figure 3) that failed, plus liveness.
    public enum Property: String, Sendable {
        /// At most one leader per term.
        case electionSafety = "election safety"
        /// Two logs that agree on (index, term) agree on every entry before it.
        case logMatching = "log matching"
        /// A leader holds every entry committed in earlier terms.
        case leaderCompleteness = "leader completeness"
        /// Every node applies the same entry at each index; committed entries never change.
        case stateMachineSafety = "state machine safety"
        /// After healing, a leader is elected and proposals commit within a bound.
        case liveness
    }

    /// Which property failed.
    public var property: Property
    /// The simulated tick at which it was detected.
    public var tick: UInt64
    /// What exactly was seen: nodes, terms, indexes.
    public var detail: String

    /// A violation of `property` seen at `tick`.
    public init(_ property: Property, tick: UInt64, _ detail: String) {
        self.property = property
        self.tick = tick
        self.detail = detail
    }

    /// "log matching at tick 120: ...".
    public var description: String { "\(property.rawValue) at tick \(tick): \(detail)" }
}
