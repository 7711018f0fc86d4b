import Foundation

/// Seeds for randomized tests. `MOM_SEED=<n>` replays exactly seed n; failures print
/// "MOM_SEED=<n>" in their comment so the replay command is in the failure output.
enum TestSeed {
    static func seeds(count: Int, base: UInt64) -> [UInt64] {
        if let text = ProcessInfo.processInfo.environment["MOM_SEED"], let seed = UInt64(text) { return [seed] }
        return (0..<UInt64(count)).map { base &+ $0 &* 7919 }
    }
}
