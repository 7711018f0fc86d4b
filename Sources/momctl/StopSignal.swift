import Foundation

/// Ctrl-C for `consume --follow`: following is the normal way to watch a stream, so SIGINT (or
/// SIGTERM) ends it with exit status 0. Why a plain handler calling `_exit`: it is
/// async-signal-safe, works even when a shell started momctl with SIGINT ignored, and loses
/// nothing, because every line is printed with one unbuffered write.
enum StopSignal {
    static func exitOnInterrupt() {
        signal(SIGINT) { _ in _exit(0) }
        signal(SIGTERM) { _ in _exit(0) }
    }
}
