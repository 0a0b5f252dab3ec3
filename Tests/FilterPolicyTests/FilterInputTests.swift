import Testing
import HeraldCore
@testable import FilterPolicy

/// Fields as comparable pairs.
func pairs(_ input: FilterInput) -> [String] {
    input.fields.map { "\($0.path)=\($0.value.policyText)" }
}

@Suite struct AttributeInputTests {
    @Test func eachDataTypeBecomesItsFields() {
        let input = FilterInput.attributes([
            "s": .string("hello"),
            "n": .number("99.5"),
            "bad": .number("ninety"),
            "arr": .stringArray(json: #"["a", 1, true, null, ["x"], {"o": 1}]"#),
            "bin": .binary([1, 2, 3]),
            "custom": MessageAttributeValue(dataType: "String.url", payload: .string("http://x")),
            "int": MessageAttributeValue(dataType: "Number.int", payload: .string("7")),
        ])
        #expect(pairs(input) == [
            #"arr="a""#, "arr=1", "arr=true", "arr=null", "custom=\"http://x\"", "int=7", "n=99.5", #"s="hello""#,
        ])
        #expect(!input.isEmpty && input.isMatchable)
    }

    @Test func stringArrayThatIsNotAnArrayGivesNothing() {
        for value in ["100", #""a""#, "{}", "[1,", "not json"] {
            #expect(FilterInput.attributes(["a": .stringArray(json: value)]).fields.isEmpty, "\(value)")
        }
    }

    @Test func onlyAnAbsentAttributeSetIsEmpty() {
        #expect(FilterInput.attributes([:]).isEmpty)
        let binaryOnly = FilterInput.attributes(["b": .binary([0])])
        #expect(!binaryOnly.isEmpty && binaryOnly.fields.isEmpty)
    }
}

@Suite struct BodyInputTests {
    @Test func leavesGetDottedPathsAndArraysFlatten() {
        let input = FilterInput.body(#"{"a":{"b":"x","c":[1,[2,{"d":true}]]},"a.b":"y","e":null,"f":[],"g":{},"a":{"b":"z"}}"#)
        #expect(pairs(input) == [#"a.b="x""#, "a.c=1", "a.c=2", "a.c.d=true", #"a.b="y""#, "e=null", #"a.b="z""#])
        #expect(!input.isEmpty && input.isMatchable)
    }

    @Test func arraysOfObjectsContinueThePath() {
        let input = FilterInput.body(#"{"Records":[{"s3":{"object":[[{"key":"auto-1.xml"}]]}},{"eventName":"ObjectCreated:Put"}]}"#)
        #expect(pairs(input) == [#"Records.s3.object.key="auto-1.xml""#, #"Records.eventName="ObjectCreated:Put""#])
    }

    @Test func bodiesThatAreNotJSONObjectsAreNotMatchable() {
        for body in ["Regular string message", #""a json string""#, "[1,2]", "42", #"{"store": "another_corp""#, ""] {
            let input = FilterInput.body(body)
            #expect(!input.isMatchable && input.fields.isEmpty, "\(body)")
        }
        #expect(!FilterInput.body([0x7B, 0xFF, 0x7D]).isMatchable)
    }

    @Test func emptyObjectIsMatchableWithNoFields() {
        let input = FilterInput.body("{}")
        #expect(input.isMatchable && input.fields.isEmpty && !input.isEmpty)
    }

    @Test func depthBeyondTheBodyBoundIsNotMatchable() {
        let ok = String(repeating: #"{"a":"#, count: 255) + "1" + String(repeating: "}", count: 255)
        #expect(FilterInput.body(ok).fields.count == 1)
        let deep = String(repeating: #"{"a":"#, count: 257) + "1" + String(repeating: "}", count: 257)
        #expect(!FilterInput.body(deep).isMatchable)
        #expect(!FilterInput.body(String(repeating: "[", count: 100_000)).isMatchable)
    }

    @Test func numbersBecomeDoublesWithOverflowToInfinity() {
        let input = FilterInput.body(#"{"a":3.015e2,"b":1e999,"c":-1e999,"d":-0}"#)
        #expect(input.fields.map(\.value) == [.number(301.5), .number(.infinity), .number(-.infinity), .number(0)])
    }

    @Test func largeBodiesFlattenLinearly() {
        let body = #"{"k":["# + (0..<50_000).map(String.init).joined(separator: ",") + "]}"
        #expect(FilterInput.body(body).fields.count == 50_000)
    }
}
