import SystemIO

extension SegmentLog {
    /// The default of `Configuration.cachedTailBytes`: nil, every page stays until the kernel
    /// reclaims it, as Kafka leaves it. A bound is an operator's choice (`--page-cache-tail-mb`):
    /// it keeps sustained writes fast on a VM whose fresh memory is dear, and makes a consumer
    /// further behind than the bound read from the disk (docs/performance.md §19).
    public static let defaultCachedTailBytes: UInt64? = nil
    /// Pages are freed in runs of at least this much, so the call is rare (once per 4 MiB
    /// appended) and each run covers whole pages.
    static let cacheReleaseStep: UInt64 = 4 << 20
    static let pageBytes: UInt64 = 4096

    /// The range of `segment` whose cached pages may go now, if it is at least a step long:
    /// durable, whole pages, more than `keep` bytes behind the durable end, and not freed before.
    /// Pure, for the tests.
    static func releasableRange(releasedSize: UInt64, durableSize: UInt64, keep: UInt64) -> Range<UInt64>? {
        guard durableSize > keep else { return nil }
        let end = (durableSize - keep) & ~(pageBytes - 1)
        guard end >= releasedSize + cacheReleaseStep else { return nil }
        return releasedSize..<end
    }

    /// Frees the page cache of `segment`'s durable data older than the cached tail. Only data
    /// that an fdatasync or syncfs has written is released, so the pages are clean and freeing
    /// them writes nothing. A hint: when the kernel refuses, the pages stay cached and nothing
    /// else changes, so a failure is not the log's failure.
    func releaseCachedPages(_ segment: Segment) {
        guard let keep = configuration.cachedTailBytes,
              let range = Self.releasableRange(releasedSize: segment.releasedSize, durableSize: segment.durableSize, keep: keep)
        else { return }
        try? segment.file.dropCachedPages(offset: range.lowerBound, length: range.upperBound - range.lowerBound)
        segment.releasedSize = range.upperBound
    }
}
