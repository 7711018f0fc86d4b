import Foundation

/// Seeds for randomized tests: a failing test prints its seed, and `MOM_SEED=<n>` replays it.
enum TestSeed {
    static func value(default fallback: UInt64) -> UInt64 {
        if let text = ProcessInfo.processInfo.environment["MOM_SEED"], let seed = UInt64(text) { return seed }
        return fallback
    }
}
