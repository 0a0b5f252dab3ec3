import HeraldCore
import Testing

/// `MD5OfMessageAttributes` against vectors computed elsewhere: a real AWS response, the npm
/// `aws-md5-of-message-attributes` package, moto (spec/aws-api.md §5), and Python's hashlib over
/// the documented serialisation (for names out of order, a labelled type and non-ASCII text).
@Suite struct SQSDigestTests {
    @Test func bodyDigestIsPlainMD5() {
        #expect(SQSDigest.md5Hex([]) == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(SQSDigest.md5Hex(Array("{\"foo\":20}".utf8)) == "d6cf0f93237ada70daf9b6e75cfff2e6")
        // Past one 64-byte block, so the padding crosses into a second block.
        #expect(SQSDigest.md5Hex([UInt8](repeating: 0x61, count: 200)) == "887f30b43b2867f4a9accceee7d16e6c")
    }

    @Test(arguments: [
        (["baz": MessageAttributeValue.string("qux")], "16bd0283a5b4962721ccd3efe4bc6257"),
        (["attribName1": .string("attribValue 1")], "19e27d4e946b072f3f58da80d94fd778"),
        (["customNumberTypeAttrib": MessageAttributeValue(dataType: "Number.float", payload: .string("4563442423554324324264524243.32543234"))],
         "9fe1b90bbd9965bdf77bac517c7d2495"),
        (["binaryAttribute": .binary(Array("Hello binary world!".utf8))], "31a92b15d92f8db860eda32aceb656c3"),
        ([
            "attribName1": .string("attribValue 1"),
            "customNumberTypeAttrib": MessageAttributeValue(dataType: "Number.float", payload: .string("4563442423554324324264524243.32543234")),
            "binaryAttribute": .binary(Array("Hello binary world!".utf8)),
        ], "c932db14a896c663f83c260297d594ff"),
        (["s": .string("x"), "b": .binary([0, 1])], "a9eb64ad3b0c64963ecbf0eb754a3add"),
        ([
            "zeta": MessageAttributeValue(dataType: "Number.int", payload: .string("42")),
            "Alpha": .string("é ü"), "bin": .binary([0, 255, 7]),
        ], "0511de0e414f0ce5a009ae27a6fac7fe"),
    ])
    func attributesDigestMatchesIndependentVectors(attributes: MessageAttributes, expected: String) {
        #expect(SQSDigest.md5OfMessageAttributes(attributes) == expected)
    }

    @Test func serialisationIsLengthPrefixedAndSorted() {
        let input = SQSDigest.messageAttributesDigestInput(["b": .binary([9]), "a": .number("1")])
        let expected: [UInt8] = [0, 0, 0, 1, 0x61, 0, 0, 0, 6] + Array("Number".utf8) + [1, 0, 0, 0, 1, 0x31]
            + [0, 0, 0, 1, 0x62, 0, 0, 0, 6] + Array("Binary".utf8) + [2, 0, 0, 0, 1, 9]
        #expect(input == expected)
    }

    /// RFC 1321's test suite (the one MD5 Herald has: SQS's MD5OfMessageBody and attribute digests).
    @Test(arguments: [
        ("", "d41d8cd98f00b204e9800998ecf8427e"),
        ("a", "0cc175b9c0f1b6a831c399e269772661"),
        ("abc", "900150983cd24fb0d6963f7d28e17f72"),
        ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
        ("12345678901234567890123456789012345678901234567890123456789012345678901234567890", "57edf4a22be3c955ac49da2e2107b67a"),
    ])
    func md5MatchesTheRFCVectors(_ input: String, _ expected: String) {
        #expect(SQSDigest.md5Hex(Array(input.utf8)) == expected)
    }
}
