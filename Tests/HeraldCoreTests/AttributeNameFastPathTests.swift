import Testing
@testable import HeraldCore

/// `validateName` takes a one-pass shortcut for plain names; it must accept exactly what the full
/// rule-by-rule check accepts.
@Suite struct AttributeNameFastPathTests {
    let validator = MessageValidator()

    func passesFullCheck(_ name: String) -> Bool {
        do {
            try validator.checkName(name)
            return true
        } catch {
            return false
        }
    }

    func passes(_ name: String) -> Bool {
        do {
            try validator.validateName(name)
            return true
        } catch {
            return false
        }
    }

    @Test func theShortcutAcceptsOnlyNamesTheFullCheckAccepts() {
        let alphabet: [String] = ["a", "A", "w", "s", "m", "z", "Z", "0", "9", "_", "-", ".", ".", " ", "é", "/", "n", "o"]
        var random = SplitMix64(seed: 99)
        var plain = 0
        for _ in 0..<20_000 {
            let length = Int(random.next() % 9)
            let name = (0..<length).map { _ in alphabet[Int(random.next() % UInt64(alphabet.count))] }.joined()
            let full = passesFullCheck(name)
            #expect(passes(name) == full, "\(name)")
            if MessageValidator.isPlainName(name.utf8, maxLength: validator.limits.maxAttributeNameLength) {
                plain += 1
                #expect(full, "shortcut accepted \(name)")
            }
        }
        #expect(plain > 1_000)  // the shortcut is taken
    }

    @Test func edgeNames() {
        for name in ["", ".", "a", "x.", ".x", "x..y", "AWS.x", "aws.x", "Amazon.y", "awsx", "b.c", "bucket", "bucketName",
                     String(repeating: "x", count: 256), String(repeating: "x", count: 257)] {
            #expect(passes(name) == passesFullCheck(name), "\(name)")
        }
        #expect(passes("bucketName") && passes("awsx") && !passes("aws.x") && !passes("x..y") && !passes(""))
    }
}
