import Glibc
import MOMCore
import Raft
import SystemIO

extension ReplicationHost {
    /// Hands every group this node leads to its most up-to-date voter, and waits (bounded) until
    /// this node leads none, so a SIGTERM'd node stops without a leaderless election timeout.
    /// Returns whether it led nothing at the end. Called from any thread except the loop's.
    public func handOverLeadership(timeoutMilliseconds: UInt64) -> Bool {
        let clock = SystemClock()
        let deadline = clock.monotonicNanoseconds() + timeoutMilliseconds * 1_000_000
        while clock.monotonicNanoseconds() < deadline {
            let led = statuses().filter { $0.role == .leader && $0.voters.count > 1 }
            if led.isEmpty { return true }
            _ = onLoop { host in host.requestTransfers() }
            usleep(50_000)
        }
        return statuses().allSatisfy { $0.role != .leader || $0.voters.count <= 1 }
    }

    /// Loop thread: start a transfer in every led group that is not already transferring.
    func requestTransfers() {
        for group in orderedGroups where group.isLeader {
            guard group.node.status.leadTransferee == nil else { continue }
            if let target = transferTarget(of: group) {
                group.node.transferLeadership(to: target)
                touch(group)
            }
        }
    }
}
