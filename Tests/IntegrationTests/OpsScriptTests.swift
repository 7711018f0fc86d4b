import Foundation
import Glibc
import Testing

/// Runs scripts/check-ops from `swift test`: `systemd-analyze verify` on config/momd@.service
/// and config/zookeeper.service (and on broken copies, which must fail), and config/install.sh
/// idempotence in its --root mode. Needs the Debian `systemd` package (scripts/test installs it).
@Suite struct OpsScriptTests {
    @Test func unitsVerifyAndInstallIsIdempotent() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let logPath = FileManager.default.temporaryDirectory.path + "/mom-check-ops-\(UInt32.random(in: 0...UInt32.max)).log"
        defer { unlink(logPath) }
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = (environment["PATH"] ?? "") + ":/usr/bin:/bin:/usr/sbin:/sbin"
        let child = try ChildProcess(executable: "/bin/bash", arguments: [root + "/scripts/check-ops"],
                                     environment: environment.map { "\($0.key)=\($0.value)" }, logPath: logPath)
        let status = await child.waitForExit(timeoutMilliseconds: 120_000)
        if status == nil { await child.killAndReap() }
        let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "(no output)"
        #expect(status == 0, "scripts/check-ops failed:\n\(output)")
        #expect(output.contains("check-ops: all checks passed"))
    }
}
