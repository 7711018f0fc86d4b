@testable import Auth
import MOMCore
import Testing

@Suite("libcrypto wrappers against published vectors")
struct CryptoVectorTests {
    @Test("HMAC-SHA256, RFC 4231 test case 1")
    func hmacCase1() {
        let tag = HMACSHA256.authenticationCode(
            key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8))
        #expect(hex(tag) == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
    }

    @Test("HMAC-SHA256, RFC 4231 test case 2")
    func hmacCase2() {
        let tag = HMACSHA256.authenticationCode(
            key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(hex(tag) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test("PBKDF2-HMAC-SHA256, RFC 7914 §11: passwd / salt, c = 1")
    func pbkdf2OneIteration() {
        let key = PBKDF2.deriveKey(
            password: Array("passwd".utf8), salt: Array("salt".utf8), iterations: 1, outputBytes: 64)
        #expect(key == bytes(hex: """
            55 ac 04 6e 56 e3 08 9f ec 16 91 c2 25 44 b6 05 f9 41 85 21 6d de 04 65 e6 8b 9d 57 c2 0d ac bc
            49 ca 9c cc f1 79 b6 45 99 16 64 b3 9d 77 ef 31 7c 71 b8 45 b1 e3 0b d5 09 11 20 41 d3 a1 97 83
            """))
    }

    @Test("PBKDF2-HMAC-SHA256, RFC 7914 §11: Password / NaCl, c = 80000")
    func pbkdf2EightyThousandIterations() {
        let key = PBKDF2.deriveKey(
            password: Array("Password".utf8), salt: Array("NaCl".utf8), iterations: 80_000, outputBytes: 64)
        #expect(key == bytes(hex: """
            4d dc d8 f6 0b 98 be 21 83 0c ee 5e f2 27 01 f9 64 1a 44 18 d0 4c 04 14 ae ff 08 87 6b 34 ab 56
            a1 d4 25 a1 22 58 33 54 9a db 84 1b 51 c9 b3 17 6a 27 2b de bb a1 d0 78 47 8f 62 b3 97 f3 3c 8d
            """))
    }

    @Test("constant-time comparison agrees with ==")
    func constantTimeEquals() {
        #expect(ConstantTime.equals([1, 2, 3], [1, 2, 3]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2, 4]))
        #expect(!ConstantTime.equals([1, 2, 3], [1, 2]))
        #expect(ConstantTime.equals([], []))
    }

    @Test("salts are random and of the asked length")
    func secureRandomBytes() {
        let first = SecureRandom.bytes(count: 16)
        let second = SecureRandom.bytes(count: 16)
        #expect(first.count == 16)
        // Equal 128-bit draws would mean a broken generator (probability 2^-128 otherwise).
        #expect(first != second)
    }
}

@Suite("base64url without padding")
struct Base64URLTests {
    @Test("RFC 4648 §10 vectors, unpadded, and the two URL-safe characters")
    func vectors() {
        let cases: [(String, String)] = [
            ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy"),
        ]
        for (plain, encoded) in cases {
            #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
            #expect(Base64URL.decode(encoded) == Array(plain.utf8))
        }
        #expect(Base64URL.encode([0xfb, 0xff, 0xfe]) == "-__-")
        #expect(Base64URL.decode("-__-") == [0xfb, 0xff, 0xfe])
    }

    @Test("rejects padding, foreign characters, impossible lengths and non-canonical trailing bits")
    func rejectsNonCanonical() {
        #expect(Base64URL.decode("Zg==") == nil)
        #expect(Base64URL.decode("Zm9v+A") == nil)
        #expect(Base64URL.decode("Zm9v/A") == nil)
        #expect(Base64URL.decode("Zm 9v") == nil)
        #expect(Base64URL.decode("Z") == nil)
        #expect(Base64URL.decode("Zh") == nil)  // "Zg" with a non-zero padding bit
        #expect(Base64URL.decode("Zm9") == nil)  // "Zm8" with a non-zero padding bit
        #expect(Base64URL.decode("ÿÿ") == nil)
    }

    @Test("random bytes round-trip (seeded; MOM_SEED replays)")
    func roundTrip() {
        let seed = testSeed()
        var random = SeededRandom(seed: seed)
        for _ in 0..<500 {
            let count = Int(random.uniform(below: 70))
            let input = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let encoded = Base64URL.encode(input)
            #expect(!encoded.contains("=") && !encoded.contains("+") && !encoded.contains("/"), "MOM_SEED=\(seed)")
            #expect(Base64URL.decode(encoded) == input, "MOM_SEED=\(seed)")
        }
    }
}
