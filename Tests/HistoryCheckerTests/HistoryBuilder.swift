import HistoryChecker

/// Builds small hand-made histories: a good base that every anomaly test then breaks in one way.
struct HistoryBuilder {
    var events: [HistoryEvent] = []
    private var time: UInt64 = 0

    private mutating func event(_ type: HistoryEvent.EventType, _ f: String, process: Int, node: Int = 1) -> HistoryEvent {
        time += 1_000
        var event = HistoryEvent(type: type)
        event.f = f
        event.process = process
        event.node = node
        event.timeNanoseconds = time
        return event
    }

    mutating func produce(_ value: String, partition: Int = 0, offset: UInt64?, outcome: HistoryEvent.EventType = .ok, process: Int = 1, sequence: UInt64 = 0) {
        var invoke = event(.invoke, "produce", process: process)
        invoke.topic = "t"
        invoke.partition = partition
        invoke.value = value
        invoke.producerID = UInt64(process)
        invoke.sequence = sequence
        events.append(invoke)
        var done = invoke
        done.type = outcome
        done.offset = outcome == .ok ? offset : nil
        if outcome != .ok { done.error = "refused" }
        events.append(done)
    }

    mutating func fetch(from offset: UInt64, _ records: [(UInt64, String)], next: UInt64? = nil, partition: Int = 0, process: Int = 10, node: Int = 2) {
        var invoke = event(.invoke, "fetch", process: process, node: node)
        invoke.topic = "t"
        invoke.partition = partition
        invoke.offset = offset
        events.append(invoke)
        var done = invoke
        done.type = .ok
        done.records = records.map { ReadRecord(offset: $0.0, value: $0.1) }
        done.nextOffset = next ?? records.last.map { $0.0 + 1 } ?? offset
        events.append(done)
    }

    mutating func final(node: Int, _ records: [(UInt64, String)], partition: Int = 0, digest: String = "d") {
        var line = HistoryEvent(type: .final)
        line.node = node
        line.topic = "t"
        line.partition = partition
        line.records = records.map { ReadRecord(offset: $0.0, value: $0.1, digest: "\(digest)\($0.0)") }
        line.highWatermark = (records.last?.0 ?? 0) + 1
        events.append(line)
    }

    mutating func nemesis(_ fault: String) {
        var line = HistoryEvent(type: .nemesis)
        line.f = fault
        events.append(line)
    }

    /// Three acknowledged writes (offsets 1, 2, 4: offset 3 is a Raft no-op, a legal gap), one
    /// read in two fetches, three replicas that agree (one lagging), one fault.
    static func good() -> HistoryBuilder {
        var history = HistoryBuilder()
        history.produce("a", offset: 1, sequence: 0)
        history.produce("b", offset: 2, sequence: 1)
        history.nemesis("kill")
        history.produce("c", offset: 4, sequence: 2)
        history.produce("x", offset: nil, outcome: .info, sequence: 3)
        history.fetch(from: 0, [(1, "a"), (2, "b")])
        history.fetch(from: 3, [(4, "c")], next: 5)
        let log: [(UInt64, String)] = [(1, "a"), (2, "b"), (4, "c")]
        history.final(node: 1, log)
        history.final(node: 2, log)
        history.final(node: 3, Array(log.prefix(2)))
        return history
    }
}
