import MOMCore
import Testing
@testable import Broker

@Suite struct ResourceNameTests {
    @Test(arguments: ["orders", "a", "A-Z_0.9", "orders.eu-west_1", "...", "a..b", "-", "_x", String(repeating: "x", count: 249)])
    func acceptsValidNames(_ name: String) throws {
        try ResourceName.validate(name, kind: .topic)
    }

    @Test(arguments: [
        ("", "empty"),
        (".", "reserved"),
        ("..", "reserved"),
        ("../etc", "'/'"),
        ("a/b", "'/'"),
        ("a\u{0}b", "NUL"),
        (String(repeating: "x", count: 250), "250 bytes"),
        ("héllo", "0xc3"),
        ("a b", "0x20"),
        ("a*", "0x2a"),
        ("__meta", "reserved for internal"),
        ("__", "reserved for internal"),
    ])
    func rejectsInvalidNames(_ name: String, _ reason: String) {
        do {
            try ResourceName.validate(name, kind: .queue)
            Issue.record("accepted '\(name)'")
        } catch {
            #expect(error.status == 400)
            #expect(error.code == "bad_request")
            #expect(error.message.hasPrefix("queue name"), "\(error.message)")
            #expect(error.message.contains(reason), "\(error.message)")
        }
    }

    @Test func internalNamesAllowedForTheBrokerItself() throws {
        try ResourceName.validate("__meta", kind: .topic, allowInternal: true)
        #expect(throws: ModelError.self) { try ResourceName.validate("../x", kind: .topic, allowInternal: true) }
    }

    @Test func limitIsConfigurable() {
        var limits = Limits()
        limits.resourceNameBytesMax = 3
        #expect(throws: ModelError.self) { try ResourceName.validate("abcd", kind: .exchange, limits: limits) }
    }

    @Test func printableNeverEchoesControlCharacters() {
        let printed = ResourceName.printable("a\u{1B}[31mb" + String(repeating: "z", count: 100))
        #expect(!printed.unicodeScalars.contains { $0.value < 0x20 })
        #expect(printed.utf8.count < 80)
    }
}
