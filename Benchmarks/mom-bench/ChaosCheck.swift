import HistoryChecker

/// `mom-bench check FILE...`: runs the history checker over the files (one history) and prints
/// the table; exit 0 when valid, 1 on any anomaly, 2 on a usage or read error.
enum ChaosCheck {
    static func main(_ arguments: [String]) -> Int32 {
        let files = arguments.filter { !$0.hasPrefix("-") }
        guard !files.isEmpty else {
            writeError("usage: mom-bench check HISTORY.jsonl [MORE.jsonl ...]\n")
            return 2
        }
        let events: [HistoryEvent]
        do {
            events = try HistoryFile.read(paths: files)
        } catch {
            writeError("mom-bench check: \(error)\n")
            return 2
        }
        let report = HistoryChecker().check(events)
        print(report.rendered())
        return report.isValid ? 0 : 1
    }
}
