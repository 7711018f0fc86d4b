import Glibc
import Synchronization

/// Makes a trap inside Raft (a `precondition`) still name its seed. A precondition failure kills
/// the process, so a campaign cannot catch it; instead each runner records the seed it is on in
/// a slot, and a SIGILL/SIGTRAP handler writes the recorded seeds to stderr before the process
/// dies. Slots let parallel test chunks each record their own seed.
public enum CrashReporter {
    /// How many concurrent runners can record a seed.
    public static let slotCount = 64
    /// One word per slot, allocated once; runners write only their own slot, and the signal
    /// handler only reads, so no lock is needed (a torn read would only garble the report).
    nonisolated(unsafe) static let seeds: UnsafeMutablePointer<UInt64> = {
        let slots = UnsafeMutablePointer<UInt64>.allocate(capacity: slotCount)
        slots.initialize(repeating: UInt64.max, count: slotCount)
        return slots
    }()
    static let installed = Atomic<Bool>(false)

    /// Installs the handler (once; later calls do nothing). Call before running seeds; safe to
    /// call from parallel tests.
    public static func install() {
        _ = seeds
        guard installed.compareExchange(expected: false, desired: true, ordering: .sequentiallyConsistent).exchanged else { return }
        for signalNumber in [SIGILL, SIGTRAP, SIGSEGV, SIGBUS] {
            signal(signalNumber) { received in
                CrashReporter.report()
                signal(received, SIG_DFL)
                raise(received)
            }
        }
    }

    /// Records that the runner in `slot` is now running `seed` (`UInt64.max`: idle).
    public static func running(_ seed: UInt64, slot: Int) {
        precondition(slot >= 0 && slot < slotCount, "crash-reporter slot \(slot) out of range")
        seeds[slot] = seed
    }

    /// Writes "simulation crashed while running seed N; replay with MOM_SEED=N" for each busy
    /// slot. Only async-signal-safe work: digits into a stack buffer, then write(2).
    static func report() {
        for slot in 0..<slotCount where seeds[slot] != UInt64.max {
            var line = [UInt8]("\nsimulation crashed while running seed ".utf8)
            let digits = decimal(seeds[slot])
            line += digits
            line += Array("; replay with MOM_SEED=".utf8)
            line += digits
            line.append(10)
            _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        }
    }

    static func decimal(_ value: UInt64) -> [UInt8] {
        var value = value
        var digits: [UInt8] = []
        repeat {
            digits.append(UInt8(48 + value % 10))
            value /= 10
        } while value > 0
        return digits.reversed()
    }
}
