import MOMCore

/// What one input broke: which oracle, and how. The runner adds the input's replay seed.
public struct FuzzFinding: Error, Sendable, CustomStringConvertible {
    /// The broken oracle and the evidence.
    public var message: String

    /// A finding described by `message`.
    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// One thing to fuzz. `run` draws a single input from `random` — a valid encoding, a mutation
/// of one, or pure random bytes — feeds it to the code under test, and checks the oracles:
/// no trap (a trap kills the process; the crash reporter names the seed), typed errors only,
/// bounded work and buffers, and round-trip equality where the input was valid.
///
/// Why stateless per input: an input is then a pure function of its seed, so a finding
/// replays from `MOM_SEED=<input seed>` alone, without replaying the run that led to it.
public protocol FuzzTarget {
    /// Runs one input drawn from `random`; throws what it found wrong.
    func run(random: inout SeededRandom) throws(FuzzFinding)
}

/// The fuzz targets, by command-line name.
public enum FuzzTargetKind: String, CaseIterable, Sendable {
    /// The HTTP/1.1 request parser (HTTPServer).
    case http
    /// The produce-body JSON decoder (Broker's ProduceRequest over RequestJSON).
    case json
    /// Transport's frame decoder and frame body parser.
    case frame
    /// Raft's message codec.
    case raft
    /// SegmentLog recovery over corrupted segment and index files.
    case segment

    /// A fresh target of this kind.
    public func makeTarget() -> any FuzzTarget {
        switch self {
        case .http: return HTTPParserFuzzTarget()
        case .json: return ProduceBodyFuzzTarget()
        case .frame: return FrameFuzzTarget()
        case .raft: return RaftMessageFuzzTarget()
        case .segment: return SegmentRecoveryFuzzTarget()
        }
    }
}

/// How an input is made from a valid encoding: the mix every target uses.
enum InputShape {
    /// The valid encoding itself: round trips must hold.
    case valid
    /// A havoc-mutated valid encoding.
    case mutated
    /// Bytes with no structure at all.
    case random

    /// 1 in 8 valid, 1 in 8 random, the rest mutated.
    static func draw(_ random: inout SeededRandom) -> InputShape {
        switch random.uniform(below: 8) {
        case 0: return .valid
        case 1: return .random
        default: return .mutated
        }
    }
}

extension SeededRandom {
    /// `count` random bytes.
    mutating func bytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: next()) }
    }

    /// A random length in 0...max, biased to small values (most inputs are small, some are not).
    mutating func length(max: Int) -> Int {
        if chance(1, in: 10) { return Int(uniform(below: UInt64(max) + 1)) }
        return Int(uniform(below: UInt64(Swift.min(max, 16)) + 1))
    }
}
