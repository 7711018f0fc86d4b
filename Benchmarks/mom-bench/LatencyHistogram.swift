/// An HDR-style latency histogram over nanoseconds: exact below 128, then 64 linear
/// sub-buckets per power of two (under 2% relative error). Fixed memory, O(1) record.
struct LatencyHistogram {
    static let exactLimit: UInt64 = 128
    static let subBuckets = 64
    // 128 exact buckets + 57 powers of two (shift 1...57) × 64 covers every UInt64.
    var counts = [UInt64](repeating: 0, count: 128 + 57 * 64)
    private(set) var count: UInt64 = 0
    private(set) var maxNanoseconds: UInt64 = 0

    mutating func record(nanoseconds value: UInt64) {
        counts[Self.bucket(of: value)] += 1
        count += 1
        maxNanoseconds = max(maxNanoseconds, value)
    }

    static func bucket(of value: UInt64) -> Int {
        if value < exactLimit { return Int(value) }
        let shift = (63 - value.leadingZeroBitCount) - 6  // value >> shift is in [64, 128)
        let mantissa = Int(value >> UInt64(shift)) - subBuckets
        return 128 + (shift - 1) * subBuckets + mantissa
    }

    /// The highest value a bucket holds (percentiles report the bucket's upper edge).
    static func upperBound(of bucket: Int) -> UInt64 {
        if bucket < 128 { return UInt64(bucket) }
        let shift = UInt64((bucket - 128) / subBuckets + 1)
        let mantissa = UInt64((bucket - 128) % subBuckets + subBuckets)
        // Wrapping: the top bucket ends at UInt64.max, one below 2^64.
        return ((mantissa + 1) &<< shift) &- 1
    }

    /// The value at `quantile` (0...1), in nanoseconds; 0 when empty.
    func percentile(_ quantile: Double) -> UInt64 {
        guard count > 0 else { return 0 }
        let rank = max(1, UInt64((quantile * Double(count)).rounded(.up)))
        var seen: UInt64 = 0
        for (bucket, bucketCount) in counts.enumerated() where bucketCount > 0 {
            seen += bucketCount
            if seen >= rank { return min(Self.upperBound(of: bucket), maxNanoseconds) }
        }
        return maxNanoseconds
    }
}

extension LatencyHistogram {
    /// Adds another histogram's samples (workers record privately and merge once at the end).
    mutating func merge(_ other: LatencyHistogram) {
        for (bucket, bucketCount) in other.counts.enumerated() where bucketCount > 0 { counts[bucket] += bucketCount }
        count += other.count
        maxNanoseconds = max(maxNanoseconds, other.maxNanoseconds)
    }
}
