import Foundation
import Testing

/// The golden scripts in testdata/, one test case per file.
@Suite struct ScriptedTests {
    static let sourceDirectory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("testdata")

    static var scriptNames: [String] {
        let directory = Bundle.module.resourceURL!.appendingPathComponent("testdata")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".txt") }.sorted()
    }

    @Test(arguments: ScriptedTests.scriptNames)
    func script(_ name: String) throws {
        let url = Bundle.module.resourceURL!.appendingPathComponent("testdata").appendingPathComponent(name)
        let text = try String(contentsOf: url, encoding: .utf8)
        let (rewritten, mismatches) = try ScriptRunner.run(text, seed: 0)
        if ProcessInfo.processInfo.environment["MOM_REWRITE"] == "1" {
            try rewritten.write(to: ScriptedTests.sourceDirectory.appendingPathComponent(name), atomically: true, encoding: .utf8)
            return
        }
        for mismatch in mismatches {
            Issue.record("\(name) \(mismatch)")
        }
    }

    @Test func scriptsExist() {
        #expect(ScriptedTests.scriptNames.count >= 10)
    }
}
