import Testing
@testable import HeraldCore

@Suite struct MessageIDTests {
    @Test func randomIDsAreVersion4UUIDs() {
        let id = MessageID.random().text
        #expect(id.count == 36)
        let parts = id.split(separator: "-")
        #expect(parts.map(\.count) == [8, 4, 4, 4, 12])
        #expect(parts[2].first == "4")
        #expect(["8", "9", "a", "b"].contains(parts[3].first.map(String.init) ?? ""))
        #expect(MessageID.random() != MessageID.random())
    }

    @Test func canonicalTextRoundTripsThroughBits() {
        let text = "5b0e6a4c-3f7e-4c2a-9d61-0f1e2d3c4b5a"
        let id = MessageID(text: text)
        #expect(id.text == text)
        #expect(id.high == 0x5b0e_6a4c_3f7e_4c2a)
        #expect(id.low == 0x9d61_0f1e_2d3c_4b5a)
        #expect(id == MessageID(high: 0x5b0e_6a4c_3f7e_4c2a, low: 0x9d61_0f1e_2d3c_4b5a))
        #expect(id.withUTF8 { Array($0) } == Array(text.utf8))
        let random = MessageID.random()
        #expect(MessageID(text: random.text) == random)
    }

    /// The register-at-a-time hex writer against a digit-at-a-time reference, on edge values
    /// (every nibble 0, 9, a, f) and pseudo-random ones.
    @Test func canonicalTextMatchesADigitByDigitRendering() {
        func reference(_ high: UInt64, _ low: UInt64) -> String {
            func hex(_ value: UInt64, _ digits: Int) -> String {
                let text = String(value, radix: 16)
                return String(repeating: "0", count: digits - text.count) + text
            }
            return hex(high >> 32, 8) + "-" + hex((high >> 16) & 0xFFFF, 4) + "-" + hex(high & 0xFFFF, 4) + "-"
                + hex(low >> 48, 4) + "-" + hex(low & 0xFFFF_FFFF_FFFF, 12)
        }
        var values: [(UInt64, UInt64)] = [(0, 0), (.max, .max), (0x0123_4567_89ab_cdef, 0xfedc_ba98_7654_3210),
                                          (0x9999_9999_9999_9999, 0xaaaa_aaaa_aaaa_aaaa), (0x0a0a_0a0a_0a0a_0a0a, 0x9f9f_9f9f_9f9f_9f9f)]
        var generator = SplitMix64(seed: 42)
        for _ in 0..<1_000 { values.append((generator.next(), generator.next())) }
        for (high, low) in values {
            let id = MessageID(high: high, low: low)
            #expect(id.text == reference(high, low))
            #expect(MessageID(text: id.text) == id)
        }
    }

    @Test func otherTextIsKeptAsGiven() {
        for text in ["m-1", "", "5B0E6A4C-3F7E-4C2A-9D61-0F1E2D3C4B5A", "5b0e6a4c-3f7e-4c2a-9d61-0f1e2d3c4b5az", "5b0e6a4c+3f7e-4c2a-9d61-0f1e2d3c4b5a"] {
            let id = MessageID(text: text)
            #expect(id.text == text)
            #expect(id.utf8Count == text.utf8.count)
            #expect(id.withUTF8 { Array($0) } == Array(text.utf8))
        }
        #expect(MessageID(text: "a") != MessageID(text: "b"))
        #expect(MessageID(text: "00000000-0000-0000-0000-000000000000") != MessageID(text: ""))
    }

    @Test func messageSettersDoNotAffectCopies() {
        let original = Message(id: MessageID(text: "m"), topic: "t", attributes: [:], body: [1])
        var copy = original
        #expect(copy.isSameInstance(as: original))
        copy.body = [2]
        copy.topic = "u"
        #expect(original.body == [1] && original.topic == "t")
        #expect(copy.body == [2] && copy.topic == "u" && copy.id == original.id)
        #expect(!copy.isSameInstance(as: original))
    }

    @Test func attributeFilterKindFollowsBaseType() {
        #expect(MessageAttributeValue(dataType: "String.url", payload: .string("x")).filterKind == .string)
        #expect(MessageAttributeValue(dataType: "Number.int", payload: .string("1")).filterKind == .number)
        #expect(MessageAttributeValue.stringArray(json: "[]").filterKind == .stringArray)
        #expect(MessageAttributeValue.binary([1]).filterKind == .binary)
        #expect(MessageAttributeValue.number("1").sizeInBytes(name: "attr1") == 12)
    }
}
