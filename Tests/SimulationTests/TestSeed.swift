import Foundation

/// Seeds for seeded tests: `MOM_SEED=<n>` replays exactly seed n; otherwise the test's own range.
enum TestSeed {
    /// The seed to replay, if `MOM_SEED` is set.
    static var replay: UInt64? {
        guard let text = ProcessInfo.processInfo.environment["MOM_SEED"] else { return nil }
        return UInt64(text)
    }

    /// `MOM_SEED` alone when set, else `range`.
    static func seeds(_ range: Range<UInt64>) -> [UInt64] {
        if let replay { return [replay] }
        return Array(range)
    }
}
