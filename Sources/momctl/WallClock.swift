import Foundation
import MOMCore

/// The real clock for momctl, which needs only wall time (a user's creation time). momctl does
/// not link SystemIO, so it has its own two-line clock rather than a new dependency edge.
struct WallClock: Clock {
    func monotonicNanoseconds() -> UInt64 {
        DispatchTime.now().uptimeNanoseconds
    }

    func wallMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }
}
