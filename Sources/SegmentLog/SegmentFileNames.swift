import MOMCore

/// On-disk names (after Kafka's LogFileUtils): a 20-digit base offset, so `ls` sorts numerically.
enum SegmentFileNames {
    static let logSuffix = ".log"
    static let indexSuffix = ".index"
    /// A segment being removed by retention: renamed first, so a crash never leaves a hole.
    static let deletedSuffix = ".deleted"
    /// The redo record of a truncation inside a batch (see `SegmentLog+Truncation`).
    static let swapSuffix = ".swap"
    /// Reserved for compaction output; recovery discards it.
    static let cleanedSuffix = ".cleaned"
    /// AtomicFile's temporary file; recovery discards it.
    static let temporarySuffix = ".tmp"

    static func baseName(_ offset: Offset) -> String {
        let digits = String(offset.rawValue)
        return String(repeating: "0", count: max(0, 20 - digits.count)) + digits
    }

    static func log(_ directory: String, _ base: Offset) -> String { "\(directory)/\(baseName(base))\(logSuffix)" }
    static func index(_ directory: String, _ base: Offset) -> String { "\(directory)/\(baseName(base))\(indexSuffix)" }
    static func swap(_ directory: String, _ base: Offset) -> String { "\(directory)/\(baseName(base))\(swapSuffix)" }

    /// The base offset of a name like `00000000000000000042.log`, or nil for anything else.
    static func baseOffset(of name: String, suffix: String) -> Offset? {
        guard name.hasSuffix(suffix) else { return nil }
        let digits = name.dropLast(suffix.count)
        guard digits.count == 20, digits.allSatisfy({ $0 >= "0" && $0 <= "9" }), let value = UInt64(digits) else {
            return nil
        }
        return Offset(value)
    }
}
