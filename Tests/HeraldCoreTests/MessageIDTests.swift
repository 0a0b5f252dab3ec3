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

    @Test func attributeFilterKindFollowsBaseType() {
        #expect(MessageAttributeValue(dataType: "String.url", payload: .string("x")).filterKind == .string)
        #expect(MessageAttributeValue(dataType: "Number.int", payload: .string("1")).filterKind == .number)
        #expect(MessageAttributeValue.stringArray(json: "[]").filterKind == .stringArray)
        #expect(MessageAttributeValue.binary([1]).filterKind == .binary)
        #expect(MessageAttributeValue.number("1").sizeInBytes(name: "attr1") == 12)
    }
}
