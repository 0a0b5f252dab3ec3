import Testing
import HeraldCore

/// HeraldCore's one JSON model and parser. The Jackson texts of every error are checked through the
/// filter-policy mapping in FilterPolicyTests (JSONParsingTests, the conformance corpus).
@Suite struct JSONParserTests {
    func parse(_ text: String, maxDepth: Int = 64) throws(JSONParseError) -> JSONValue {
        try JSONParser.parse(text, limits: JSONParser.Limits(maxDepth: maxDepth))
    }

    @Test func parsesAndWritesBack() throws {
        let text = #"{"a":[1,-2.5e3,true,false,null,"x\"\\\n\u00e9\ud83d\ude00"],"b":{}}"#
        let value = try parse(text)
        #expect(value["b"] == .object([]))
        guard case .array(let items) = try #require(value["a"]) else { Issue.record("not an array"); return }
        #expect(items[1] == .number("-2.5e3"))
        #expect(items[5] == .string("x\"\\\né😀"))
        #expect(try parse(value.text) == value)
        #expect(value.text == #"{"a":[1,-2.5e3,true,false,null,"x\"\\\né😀"],"b":{}}"#)
    }

    @Test func keepsMemberOrderAndDuplicatesAndTheLastWinsOnLookup() throws {
        let value = try parse(#"{"b":1.50,"a":0,"b":"x"}"#)
        #expect(value == .object([
            .init(key: "b", value: .number("1.50")), .init(key: "a", value: .number("0")), .init(key: "b", value: .string("x")),
        ]))
        #expect(value["b"] == .string("x"))
        #expect(value["c"] == nil)
        #expect(JSONValue.array([])["a"] == nil)
    }

    @Test(arguments: ["", "{", "[1,]", "{\"a\"}", "01", "1.", "-", "tru", "\"\\x\"", "\"a\nb\"", "[1] [2]", "{'a':1}", "nul", "NaN"])
    func rejects(text: String) {
        #expect(throws: JSONParseError.self) { try parse(text) }
    }

    @Test func loneSurrogateEscapesBecomeReplacementCharacters() throws {
        // As Jackson reads them (a Java string may hold one; a Swift String cannot).
        #expect(try parse(#"["\ud800", "\udc00x"]"#) == .array([.string("\u{FFFD}"), .string("\u{FFFD}x")]))
    }

    @Test func errorsCarryJacksonsMessageAndPosition() throws {
        let error = try #require(throws: JSONParseError.self) { try parse("{\n  \"a\": [1,\n   x]}") }
        #expect(error.message == "Unrecognized token 'x': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')")
        #expect(error.line == 3 && error.column == 5 && error.offset == 17)  // Jackson reports the end of a bad token
        #expect(error.description.hasSuffix(" at line 3, column 5"))
        #expect(JSONParseError.jacksonLocation(line: 1, column: 2)
            == "[Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 2]")
    }

    @Test func depthIsBounded() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONParseError.self) { try parse(deep) }
        #expect((try? parse(String(repeating: "[", count: 64) + String(repeating: "]", count: 64))) != nil)
        #expect((try? parse(String(repeating: "[", count: 65) + String(repeating: "]", count: 65))) == nil)
    }

    @Test func sizeAndNumberLengthAreBounded() throws {
        var limits = JSONParser.Limits(maxDepth: 4, maxBytes: 8)
        #expect(try JSONParser.parse("[1,2,3]", limits: limits) == .array([.number("1"), .number("2"), .number("3")]))
        let tooLong = try #require(throws: JSONParseError.self) { try JSONParser.parse("[1,2,3,4]", limits: limits) }
        #expect(tooLong.message == "Document length (9) exceeds the maximum allowed (8)")
        limits = JSONParser.Limits(maxDepth: 4, maxNumberLength: 3)
        #expect(try JSONParser.parse("-12", limits: limits) == .number("-12"))
        #expect(throws: JSONParseError.self) { try JSONParser.parse("1234", limits: limits) }
        #expect(JSONParser.Limits(maxDepth: 1).maxNumberLength == JSONParser.Limits.jacksonMaxNumberLength)
    }

    @Test func invalidUTF8IsRejectedAnywhere() {
        for bytes: [UInt8] in [[0x5B, 0x22, 0xFF, 0x22, 0x5D], [0x7B, 0x80, 0x7D], [0x22, 0xED, 0xA0, 0x80, 0x22]] {
            #expect(throws: JSONParseError.self) { try JSONParser.parse(bytes, limits: JSONParser.Limits(maxDepth: 4)) }
        }
    }

    @Test func writtenStringsHaveNoRawLineBreaks() {
        let text = JSONValue.string("a\r\nb\u{1}").text
        #expect(!text.utf8.contains(0x0A) && !text.utf8.contains(0x0D))
        #expect(text == #""a\r\nb\u0001""#)
        #expect(JSONValue.quoted("a\"b\\c\n\u{1}") == #""a\"b\\c\n\u0001""#)
    }

    @Test func deepValuesWriteAndMeasureWithoutRecursion() throws {
        var deep = JSONValue.array([.string("x")])
        for _ in 0..<1_000 { deep = .object([.init(key: "a", value: deep)]) }
        #expect(deep.nestingDepth == 1_001)
        #expect(deep.text.utf8.count == 1_000 * 6 + 5)
    }
}
