import Testing
import HeraldCore

@Suite struct TopicNameTests {
    @Test(arguments: ["a", "orders", "Orders_2024-x", "t.fifo", String(repeating: "a", count: 256), String(repeating: "a", count: 251) + ".fifo"])
    func valid(name: String) { #expect(TopicName.isValid(name)) }

    @Test(arguments: ["", ".fifo", "a.b", "a b", "a.fifo.fifo", "a.FIFO", "ä", String(repeating: "a", count: 257), "x.fif", "a/b"])
    func invalid(name: String) { #expect(!TopicName.isValid(name)) }

    @Test func fifo() {
        #expect(TopicName.isFIFO("orders.fifo"))
        #expect(!TopicName.isFIFO("orders"))
    }
}

@Suite struct HeraldErrorCodeTests {
    @Test func catalogCodesAreUniqueAndWellFormed() {
        let raw = HeraldErrorCode.all.map(\.rawValue)
        #expect(Set(raw).count == raw.count)
        for code in HeraldErrorCode.all { #expect(HeraldErrorCode.isWellFormed(code.rawValue.utf8), "\(code)") }
        #expect(HeraldErrorCode.invalidParameter.rawValue == "InvalidParameter")
        #expect(HeraldErrorCode.parameterValueInvalid.rawValue == "ParameterValueInvalid")
    }

    @Test func wellFormedness() {
        #expect(!HeraldErrorCode.isWellFormed("".utf8))
        #expect(!HeraldErrorCode.isWellFormed("Bad Code".utf8))
        #expect(!HeraldErrorCode.isWellFormed(String(repeating: "A", count: 65).utf8))
        #expect(HeraldErrorCode.isWellFormed("FutureCode2".utf8))
    }
}

@Suite struct JSONValueTests {
    @Test func parsesAndWritesBack() throws {
        let text = #"{"a":[1,-2.5e3,true,false,null,"x\"\\\n\u00e9\ud83d\ude00"],"b":{}}"#
        let value = try JSONValue.parse(text)
        #expect(value.member("b") == .object([]))
        guard case .array(let items) = try #require(value.member("a")) else { Issue.record("not an array"); return }
        #expect(items[1] == .number("-2.5e3"))
        #expect(items[5] == .string("x\"\\\né😀"))
        #expect(try JSONValue.parse(value.text) == value)
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\"}", "01", "1.", "-", "tru", "\"\\x\"", "\"\\ud800\"", "\"a\nb\"", "[1] [2]", "{'a':1}", "nul"])
    func rejects(text: String) {
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(text) }
    }

    @Test func depthIsBounded() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONValue.ParseError.self) { try JSONValue.parse(deep) }
        #expect((try? JSONValue.parse(String(repeating: "[", count: 64) + String(repeating: "]", count: 64))) != nil)
    }

    @Test func writtenStringsHaveNoRawLineBreaks() {
        let text = JSONValue.string("a\r\nb\u{1}").text
        #expect(!text.utf8.contains(0x0A) && !text.utf8.contains(0x0D))
        #expect(text == #""a\r\nb\u0001""#)
    }
}
