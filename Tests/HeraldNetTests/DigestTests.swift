import HeraldNet
import Testing

@Suite struct DigestTests {
    /// RFC 1321's test suite.
    @Test(arguments: [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("a", "0cc175b9c0f1b6a831c399e269772661"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        ("12345678901234567890123456789012345678901234567890123456789012345678901234567890", "57edf4a22be3c955ac49da2e2107b67a"),
    ])
    func md5MatchesTheRFCVectors(_ input: String, _ expected: String) {
        #expect(Digest.md5Hex(Array(input.utf8)) == expected)
    }

    @Test func concurrentCallsAgree() async {
        let body = Array(repeating: UInt8(ascii: "x"), count: 4096)
        let expected = Digest.md5Hex(body)
        #expect(expected.count == 32)
        let results = await withTaskGroup(of: String.self) { group in
            for _ in 0..<8 { group.addTask { Digest.md5Hex(body) } }
            var all: [String] = []
            for await result in group { all.append(result) }
            return all
        }
        #expect(results.allSatisfy { $0 == expected })
    }
}
