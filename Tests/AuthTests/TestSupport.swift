import Foundation

/// A fresh private directory per test, so parallel tests never share files.
func makeTemporaryDirectory() throws -> String {
    var template = Array((NSTemporaryDirectory() + "/mom-auth-XXXXXX").utf8CString)
    let created = template.withUnsafeMutableBufferPointer { buffer in
        mkdtemp(buffer.baseAddress!).map { String(cString: $0) }
    }
    guard let created else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    return created
}

func removeDirectory(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}

/// Bytes from a hex string ("0b0b…"); spaces are ignored.
func bytes(hex: String) -> [UInt8] {
    let digits = Array(hex.filter { !$0.isWhitespace })
    precondition(digits.count % 2 == 0, "odd hex length")
    return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! }
}

func hex(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}

/// The permission bits of a file, from stat(2).
func permissionBits(_ path: String) throws -> UInt32 {
    var status = stat()
    guard lstat(path, &status) == 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
    return UInt32(status.st_mode & 0o7777)
}

/// The seed for a seeded test: `MOM_SEED` when set (to replay a failure), else a fresh one.
func testSeed() -> UInt64 {
    if let text = ProcessInfo.processInfo.environment["MOM_SEED"], let seed = UInt64(text) { return seed }
    return UInt64.random(in: 1...UInt64.max)
}
