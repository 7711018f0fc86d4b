import Testing
@testable import Broker

/// `--raft-advertise`: the address peers dial when a proxy sits in front of `--raft-listen`.
@Suite struct RaftAdvertiseConfigTests {
    private let base = ["--node-id", "2", "--data-dir", "/tmp/x", "--http-listen", "127.0.0.1:8082", "--raft-listen", "127.0.0.1:9092"]

    @Test func absentMeansTheListenAddress() throws {
        let config = try NodeConfig.parse(arguments: base)
        #expect(config.raftAdvertise == nil)
    }

    @Test func parsedWhenGiven() throws {
        let config = try NodeConfig.parse(arguments: base + ["--raft-advertise", "127.0.0.1:19092"])
        #expect(config.raftAdvertise?.description == "127.0.0.1:19092")
    }

    @Test func refusedWhenNotHostPort() {
        #expect(throws: NodeConfig.Invalid.self) { try NodeConfig.parse(arguments: base + ["--raft-advertise", "proxy"]) }
    }
}
