import HTTPServer
import MOMCore

/// The answer to `POST /v1/queues/{q}/ack`: one outcome per receipt, in request order, plus
/// counts. Acks are idempotent and never fail per receipt: a `stale` receipt's claim expired
/// and the message went to another receiver (who will ack it); `unknown` means already acked,
/// dead-lettered, or a receipt this queue never issued.
enum QueueAckSummary {
    static func name(_ outcome: QueueAckOutcome) -> String {
        switch outcome {
        case .acknowledged: "acknowledged"
        case .stale: "stale"
        case .unknown: "unknown"
        }
    }

    static func response(_ outcomes: [QueueAckOutcome]) -> HTTPResponse {
        var writer = JSONWriter(reservingCapacity: 64 + outcomes.count * 16)
        writer.beginObject()
        for outcome in [QueueAckOutcome.acknowledged, .stale, .unknown] {
            writer.field(name(outcome), outcomes.count { $0 == outcome })
        }
        writer.key("results")
        writer.beginArray()
        for outcome in outcomes { writer.string(name(outcome)) }
        writer.endArray()
        writer.endObject()
        return .json(bytes: writer.bytes)
    }

    /// Reads `results` back from a leader's answer; nil when malformed.
    static func outcomes(from body: [UInt8]) -> [QueueAckOutcome]? {
        guard let list = (try? JSONValue(parsing: body))?["results"]?.arrayValue else { return nil }
        var outcomes: [QueueAckOutcome] = []
        for item in list {
            switch item.stringValue {
            case "acknowledged": outcomes.append(.acknowledged)
            case "stale": outcomes.append(.stale)
            case "unknown": outcomes.append(.unknown)
            default: return nil
            }
        }
        return outcomes
    }
}
