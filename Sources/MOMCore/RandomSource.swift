/// Randomness is injected (STYLE.md habit 2) so every simulation replays from a seed.
public protocol RandomSource {
    /// 64 uniformly random bits.
    mutating func next() -> UInt64
}

extension RandomSource {
    /// A uniform integer in `0..<upperBound` (Lemire's multiply-shift, rejection for exactness).
    public mutating func uniform(below upperBound: UInt64) -> UInt64 {
        precondition(upperBound > 0, "uniform(below: 0)")
        var product = next().multipliedFullWidth(by: upperBound)
        if product.low < upperBound {
            let threshold = (0 &- upperBound) % upperBound
            while product.low < threshold {
                product = next().multipliedFullWidth(by: upperBound)
            }
        }
        return product.high
    }

    /// A uniform integer in `range`.
    public mutating func uniform(in range: ClosedRange<Int>) -> Int {
        let width = UInt64(range.upperBound - range.lowerBound) + 1
        return range.lowerBound + Int(uniform(below: width))
    }

    /// True with probability `numerator / denominator`.
    public mutating func chance(_ numerator: UInt64, in denominator: UInt64) -> Bool {
        uniform(below: denominator) < numerator
    }

    /// A uniform double in [0, 1).
    public mutating func unitDouble() -> Double {
        Double(next() >> 11) * (1.0 / 9_007_199_254_740_992.0)
    }
}

/// SplitMix64: tiny, fast, and fully determined by its seed. Used by the simulator and tests.
public struct SeededRandom: RandomSource, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { self.state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The system's generator, for production: election jitter, reconnect backoff.
public struct SystemRandom: RandomSource, Sendable {
    private var generator = SystemRandomNumberGenerator()
    public init() {}
    public mutating func next() -> UInt64 { generator.next() }
}
