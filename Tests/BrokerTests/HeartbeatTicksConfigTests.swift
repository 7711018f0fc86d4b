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
