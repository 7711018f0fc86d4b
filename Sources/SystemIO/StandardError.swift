import Glibc

/// Diagnostic lines on file descriptor 2, for components that log through an injected closure
/// and need a production default that does not go through stdout buffering.
public enum StandardError {
    /// Writes `line` and a newline to stderr in one write(2), so lines from threads don't interleave.
    public static func writeLine(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(0x0A)
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(2, raw.baseAddress! + offset, raw.count - offset)
                if written > 0 { offset += written } else if written < 0 && errno == EINTR { continue } else { return }
            }
        }
    }
}
