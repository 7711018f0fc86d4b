import Testing
@testable import momctl

@Suite("momctl commands in process: help and usage errors")
struct DispatcherTests {
    @Test("no command is a usage error; --help lists every command")
    func topLevel() async {
        let (none, noneConsole) = await CapturedConsole.run([])
        #expect(none == .usage)
        #expect(noneConsole.error.contains("usage: momctl"))
        let (help, helpConsole) = await CapturedConsole.run(["--help"])
        #expect(help == .success)
        for group in Dispatcher.standard.groups { #expect(helpConsole.output.contains("  " + group.name + " ")) }
        #expect(await CapturedConsole.run(["frobnicate"]).0 == .usage)
        #expect(await CapturedConsole.run(["--server", "a:1", "--bogus", "topic", "list"]).0 == .usage)
    }

    /// Every group's help lists its subcommands; every subcommand answers --help with status 0
    /// and its usage line, without touching the network or the token file.
    @Test("--help works on every command and subcommand")
    func helpEverywhere() async throws {
        var checked = 0
        for group in Dispatcher.standard.groups {
            let (status, console) = await CapturedConsole.run([group.name, "--help"])
            #expect(status == .success, "momctl \(group.name) --help")
            #expect(console.output.contains("momctl \(group.name)"), "momctl \(group.name) --help")
            let subcommands = console.output.split(separator: "\n").compactMap { line -> String? in
                let words = line.split(separator: " ")
                guard words.count >= 3, words[0] == "momctl", words[1] == group.name, !words[2].hasPrefix("-"),
                      words[2].allSatisfy({ $0.isLowercase || $0 == "-" }) else { return nil }
                return String(words[2])
            }
            for subcommand in Set(subcommands) {
                let (subStatus, subConsole) = await CapturedConsole.run([group.name, subcommand, "--help"])
                #expect(subStatus == .success, "momctl \(group.name) \(subcommand) --help")
                #expect(subConsole.output.hasPrefix("usage: momctl \(group.name) \(subcommand)"))
                checked += 1
            }
        }
        #expect(checked == 33)
    }

    @Test("usage errors exit 2 before anything is sent", arguments: [
        ["topic"], ["topic", "bogus"], ["topic", "create"], ["topic", "create", "t", "--partitions", "0"],
        ["topic", "list", "extra"], ["topic", "list", "--output", "yaml"], ["topic", "delete", "--force", "t"],
        ["consume", "t", "--offset", "soon"], ["consume", "t", "--wait-ms", "100"], ["consume"],
        ["produce"], ["produce", "t", "--partition", "-1"], ["produce", "t", "--user", "u", "--password-stdin"],
        ["queue", "ack", "q"], ["queue", "receive", "q", "--max-messages", "0"],
        ["exchange", "create", "x", "--type", "headers"], ["exchange", "publish", "x"],
        ["exchange", "bind", "x", "--destination", "d", "--destination-type", "file"],
        ["subscription", "commit", "t", "s", "--offsets", "0:x"], ["subscription", "create", "t", "s", "--start", "middle"],
        ["cluster", "status", "--lag-threshold", "-5"], ["cluster", "meta-reassign"],
        ["cluster", "meta-reassign", "--replicas", "1,x"], ["cluster", "meta-reassign", "4", "--replicas", "1,2,4"], ["login"], ["topic", "list", "--user", "bob"],
        ["--server", "https://127.0.0.1:1", "topic", "list"],
    ])
    func usageErrors(arguments: [String]) async {
        let (status, console) = await CapturedConsole.run(arguments)
        #expect(status == .usage, "\(arguments): \(console.error)")
        #expect(console.error.hasPrefix("momctl: ") || console.error.hasPrefix("usage:"), "\(arguments)")
    }
}
