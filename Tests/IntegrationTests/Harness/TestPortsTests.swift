import Foundation
import Testing
@testable import TestSupport

/// The port source every server-starting test uses: ports below the ephemeral range, never the
/// same twice in one process, and never one something else holds.
@Suite struct TestPortsTests {
    @Test func portsAreDistinctAndBelowTheEphemeralRange() throws {
        let ports = try TestPorts.take(8) + TestPorts.take(8)
        #expect(Set(ports).count == 16)
        #expect(ports.allSatisfy { TestPorts.band.contains($0) && $0 < ephemeralStart() })
    }

    @Test func heldPortsAreSkippedAndTheWalkWraps() {
        let band: ClosedRange<UInt16> = 100...109
        let (ports, last) = TestPorts.pick(4, after: 107, in: band) { $0 != 109 && $0 != 101 }
        #expect(ports == [108, 100, 102, 103])
        #expect(last == 103)
    }

    @Test func aFullBandGivesWhatItHasAfterOneSweep() {
        var looked = 0
        let (ports, _) = TestPorts.pick(3, after: 100, in: 100...104) { port in
            looked += 1
            return port == 102
        }
        #expect(ports == [102])
        #expect(looked == 5)
    }

    private func ephemeralStart() -> UInt16 {
        guard let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8),
              let first = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).first, let value = UInt16(first) else { return 32_768 }
        return value
    }
}
