import MOMCore

/// Where `consume` starts: `earliest` (the log start), `latest` (the high watermark: only new
/// records) or an exact offset. Pure: parsing and resolving against a partition's bounds.
enum OffsetSpecification: Sendable, Equatable {
    case earliest
    case latest
    case exact(Offset)

    static func parse(_ text: String) throws(UsageError) -> OffsetSpecification {
        switch text {
        case "earliest": return .earliest
        case "latest": return .latest
        default:
            guard !text.isEmpty, text.allSatisfy(\.isASCII), let value = UInt64(text) else {
                throw UsageError(message: "--offset must be earliest, latest or a non-negative integer, got '\(Dispatcher.printable(text))'")
            }
            return .exact(Offset(value))
        }
    }

    /// The offset to fetch from, given the partition's current bounds. An exact offset outside
    /// them is a runtime error naming the bounds (the server would answer 416).
    func resolve(logStart: Offset, highWatermark: Offset) throws(RuntimeFailure) -> Offset {
        switch self {
        case .earliest: return logStart
        case .latest: return highWatermark
        case .exact(let offset):
            guard offset.rawValue >= logStart.rawValue, offset.rawValue <= highWatermark.rawValue else {
                throw RuntimeFailure(
                    message: "offset \(offset.rawValue) is outside the partition's range [\(logStart.rawValue), \(highWatermark.rawValue)]; "
                        + "use --offset earliest, latest or a number in that range")
            }
            return offset
        }
    }
}
