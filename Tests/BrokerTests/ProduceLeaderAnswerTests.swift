import HTTPServer
import MOMCore
import Testing
@testable import Broker

/// The relay's scan of the partition leader's answer (`ProduceRequest.scannedOffsets`) against
/// the tree parser (`parsedOffsets`), the oracle: whenever the scan answers, it must give the
/// tree's offsets; it may only pass a body on to the tree.
@Suite struct ProduceLeaderAnswerTests {
    /// The answer as the leader writes it.
    static func rendered(_ offsets: [UInt64], partition: Int = 0) -> [UInt8] {
        OffsetCollector.answer(offsets.map { (partition: partition, offset: Offset($0)) })
    }

    @Test(arguments: [[], [0], [7, 8, 9], Array(1_000_000..<1_000_016), [UInt64(Int64.max)]] as [[UInt64]])
    func theLeadersOwnAnswerIsScanned(offsets: [UInt64]) {
        let body = Self.rendered(offsets, partition: 3)
        #expect(ProduceRequest.scannedOffsets(body) == offsets)
        #expect(ProduceRequest.parsedOffsets(body) == offsets)
    }

    /// Shapes the scan takes itself, and must read as the tree does.
    static let taken: [String] = [
        #" { "offsets" : [ { "partition" : 0 , "offset" : 5 } ] } "# + "\n",
        #"{"offsets":[{"offset":5,"partition":1},{"offset":6}],"extra":{"a":[1,2.5,-0,1e300,true,false,null,"\u0041"]}}"#,
        #"{"extra":1,"extra":2,"offsets":[{"offset":0,"partition":"x","partition":[]}]}"#,
        #"{"offsets":[{"offset":-0}]}"#,
        #"{"offsets":[]}"#,
    ]

    /// Shapes the scan leaves to the tree: repeated names it reads, numbers that are not
    /// non-negative integer literals, escaped names, other types, trailing bytes, malformed.
    static let passedOn: [String] = [
        #"{"offsets":[{"offset":1}],"offsets":[{"offset":2}]}"#,
        #"{"offsets":[{"offset":1,"offset":2}]}"#,
        #"{"offsets":[{"offset":-1}]}"#,
        #"{"offsets":[{"offset":1.5}]}"#,
        #"{"offsets":[{"offset":2e3}]}"#,
        #"{"offsets":[{"offset":18446744073709551615}]}"#,
        #"{"offsets":[{"offset":"5"}]}"#,
        #"{"offsets":[{"\u006f\u0066fset":5}]}"#,
        #"{"offsets":[{"partition":0}]}"#,
        #"{"offsets":[5]}"#,
        #"{"offsets":{}}"#,
        #"{"offsets":[{}]}"#,
        #"{}"#,
        #"[]"#,
        #"{"offsets":[{"offset":5}]} x"#,
        #"{"offsets":[{"offset":5}]"#,
        #"{"offsets":[{"offset":5},]}"#,
        #"{"error":{"code":"no_leader","message":"retry"}}"#,
        "",
    ]

    @Test(arguments: taken)
    func takenShapesAgreeWithTheTree(text: String) {
        let body = Array(text.utf8)
        let scanned = ProduceRequest.scannedOffsets(body)
        #expect(scanned != nil, "the scan should take \(text)")
        #expect(scanned == ProduceRequest.parsedOffsets(body), "\(text)")
    }

    @Test(arguments: passedOn)
    func otherShapesGoToTheTree(text: String) {
        #expect(ProduceRequest.scannedOffsets(Array(text.utf8)) == nil, "the scan should pass on \(text)")
    }

    /// Seeded mutations of real answers: the scan passes a body on, or agrees with the tree.
    @Test func mutatedAnswersNeverDisagree() {
        let alphabet = Array(#"{}[]:,"0123456789-+.eE offsetpartition\nul"#.utf8)
        var taken = 0
        for seed in TestSeed.seeds(count: 4, base: 0xA115) {
            var random = SeededRandom(seed: seed)
            for _ in 0..<3_000 {
                let count = Int(random.uniform(below: 4))
                var body = Self.rendered((0..<UInt64(count)).map { _ in random.uniform(below: 1_000_000) })
                for _ in 0..<(1 + Int(random.uniform(below: 3))) {
                    let index = Int(random.uniform(below: UInt64(body.count)))
                    let byte = alphabet[Int(random.uniform(below: UInt64(alphabet.count)))]
                    switch random.uniform(below: 3) {
                    case 0: body[index] = byte
                    case 1: body.insert(byte, at: index)
                    default: body.remove(at: index)
                    }
                }
                guard let scanned = ProduceRequest.scannedOffsets(body) else { continue }
                taken += 1
                #expect(scanned == ProduceRequest.parsedOffsets(body), "MOM_SEED=\(seed) body \(String(decoding: body, as: UTF8.self))")
            }
        }
        // Some mutations (spaces, digits inside a number) leave a body the scan still takes.
        #expect(taken > 0)
    }
}
