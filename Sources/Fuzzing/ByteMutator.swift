import MOMCore

/// Mutates a valid encoding into a nearby invalid (or differently valid) one, the way
/// coverage-free mutation fuzzers (AFL's havoc stage, libFuzzer's mutators) do: bit flips,
/// interesting values, truncation, insertion, deletion, duplication, splices with another
/// input, and edits of length fields. Deterministic: the same random state gives the same
/// mutation, so an input is replayed from its seed alone.
public struct ByteMutator {
    /// Inputs never grow beyond this, so a run's memory stays bounded.
    public let lengthMax: Int

    /// A mutator that never produces inputs longer than `lengthMax` bytes.
    public init(lengthMax: Int) {
        precondition(lengthMax > 0, "lengthMax must be positive")
        self.lengthMax = lengthMax
    }

    /// Values that sit on the boundaries parsers get wrong: zero, one, sign bits, all ones.
    static let interestingBytes: [UInt8] = [0, 1, 0x7F, 0x80, 0xFF, 0x0A, 0x0D, 0x20, 0x22, 0x3A, 0x5C, 0x7B, 0x7D]
    static let interestingWords: [UInt64] = [
        0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x1_0000, 0x7FFF_FFFF, 0x8000_0000,
        0xFFFF_FFFF, 0x1_0000_0000, UInt64(Int64.max), UInt64.max,
    ]

    /// Applies 1 to 8 stacked mutations (havoc), splicing from `other` when given.
    public func mutate(_ input: [UInt8], other: [UInt8]?, random: inout SeededRandom) -> [UInt8] {
        var bytes = input
        let rounds = 1 + Int(random.uniform(below: 8))
        for _ in 0..<rounds {
            mutateOnce(&bytes, other: other, random: &random)
        }
        if bytes.count > lengthMax { bytes.removeLast(bytes.count - lengthMax) }
        return bytes
    }

    /// Random bytes of random length (up to `lengthMax`, usually short).
    public func randomBytes(random: inout SeededRandom) -> [UInt8] {
        let length = random.chance(1, in: 8) ? Int(random.uniform(below: UInt64(lengthMax) + 1))
            : Int(random.uniform(below: UInt64(min(lengthMax, 64)) + 1))
        return (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    private func mutateOnce(_ bytes: inout [UInt8], other: [UInt8]?, random: inout SeededRandom) {
        let choice = random.uniform(below: 10)
        if bytes.isEmpty && choice < 8 {
            bytes = randomBytes(random: &random)
            return
        }
        let position = Int(random.uniform(below: UInt64(max(bytes.count, 1))))
        switch choice {
        case 0:
            bytes[position] ^= UInt8(1) << UInt8(random.uniform(below: 8))
        case 1:
            bytes[position] = ByteMutator.interestingBytes[Int(random.uniform(below: UInt64(ByteMutator.interestingBytes.count)))]
        case 2:
            bytes[position] = UInt8(truncatingIfNeeded: random.next())
        case 3:
            // Truncation: torn writes, short reads.
            bytes.removeLast(bytes.count - position)
        case 4:
            let count = 1 + Int(random.uniform(below: UInt64(min(bytes.count - position, 32))))
            bytes.removeSubrange(position..<(position + count))
        case 5:
            let count = 1 + Int(random.uniform(below: 32))
            let inserted = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            bytes.insert(contentsOf: inserted, at: position)
        case 6:
            // Duplicate a run: repeated fields, repeated frames.
            let count = 1 + Int(random.uniform(below: UInt64(min(bytes.count - position, 64))))
            let run = Array(bytes[position..<(position + count)])
            let target = Int(random.uniform(below: UInt64(bytes.count + 1)))
            bytes.insert(contentsOf: run, at: target)
        case 7:
            editLengthField(&bytes, at: position, random: &random)
        case 8:
            splice(&bytes, other: other, random: &random)
        default:
            // Overwrite with a fixed-width little-endian interesting word (a u32/u64 length).
            let word = ByteMutator.interestingWords[Int(random.uniform(below: UInt64(ByteMutator.interestingWords.count)))]
            let width = random.chance(1, in: 2) ? 4 : 8
            for offset in 0..<width where position + offset < bytes.count {
                bytes[position + offset] = UInt8(truncatingIfNeeded: word >> (8 * UInt64(offset)))
            }
        }
    }

    /// Replaces the bytes at `position` with an interesting value as a LEB128 varint (MOM's
    /// length prefixes) or as ASCII decimal (HTTP Content-Length, JSON numbers).
    private func editLengthField(_ bytes: inout [UInt8], at position: Int, random: inout SeededRandom) {
        var value = ByteMutator.interestingWords[Int(random.uniform(below: UInt64(ByteMutator.interestingWords.count)))]
        if random.chance(1, in: 3) { value = value &+ UInt64(random.uniform(below: 3)) &- 1 }
        var encoded: [UInt8] = []
        if random.chance(1, in: 2) {
            repeat {
                var byte = UInt8(value & 0x7F)
                value >>= 7
                if value != 0 { byte |= 0x80 }
                encoded.append(byte)
            } while value != 0
        } else {
            encoded = Array(String(value).utf8)
        }
        let replaced = min(encoded.count, bytes.count - position)
        bytes.replaceSubrange(position..<(position + replaced), with: encoded)
    }

    /// Replaces a suffix of `bytes` with a suffix of `other` (libFuzzer's CrossOver).
    private func splice(_ bytes: inout [UInt8], other: [UInt8]?, random: inout SeededRandom) {
        guard let other, !other.isEmpty else {
            bytes.reverse()
            return
        }
        let cut = Int(random.uniform(below: UInt64(bytes.count + 1)))
        let from = Int(random.uniform(below: UInt64(other.count)))
        bytes.replaceSubrange(cut..<bytes.count, with: other[from...])
    }
}
