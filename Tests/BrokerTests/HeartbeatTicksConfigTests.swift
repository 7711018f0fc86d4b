import Testing
@testable import Broker

/// `--heartbeat-ticks`: how often a Raft leader heartbeats, in ticks.
@Suite struct HeartbeatTicksConfigTests {
    static let base = ["--node-id", "1", "--data-dir", "/nonexistent", "--http-listen", "127.0.0.1:1", "--raft-listen", "127.0.0.1:2"]

    @Test func everySecondTickByDefaultAndWhatTheFlagSays() throws {
        #expect(try NodeConfig.parse(arguments: Self.base).heartbeatTicks == 2)
        #expect(try NodeConfig.parse(arguments: Self.base + ["--heartbeat-ticks", "1"]).heartbeatTicks == 1)
        #expect(try NodeConfig.parse(arguments: Self.base + ["--heartbeat-ticks", "5"]).heartbeatTicks == 5)
    }

    @Test(arguments: ["0", "6", "-1", "two", ""])
    func outOfRangeIsRefusedByName(_ value: String) {
        #expect(throws: NodeConfig.Invalid(message: "--heartbeat-ticks must be 1…5 (an election timeout is at least 10 ticks)")) {
            try NodeConfig.parse(arguments: Self.base + ["--heartbeat-ticks", value])
        }
    }
}

/// `--quiesce`: idle groups stop heartbeating (on by default).
@Suite struct QuiesceConfigTests {
    @Test func onByDefaultAndWhatTheFlagSays() throws {
        let base = HeartbeatTicksConfigTests.base
        #expect(try NodeConfig.parse(arguments: base).quiesce == .on)
        #expect(try NodeConfig.parse(arguments: base + ["--quiesce", "off"]).quiesce == .off)
        #expect(try NodeConfig.parse(arguments: base + ["--quiesce", "on"]).quiesce == .on)
    }

    @Test func anythingElseIsRefusedByName() {
        #expect(throws: NodeConfig.Invalid(message: "--quiesce takes on or off, not 'yes'")) {
            try NodeConfig.parse(arguments: HeartbeatTicksConfigTests.base + ["--quiesce", "yes"])
        }
    }
}
