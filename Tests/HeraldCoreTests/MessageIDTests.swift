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
