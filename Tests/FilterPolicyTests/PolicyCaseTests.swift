import Testing
import HeraldCore
@testable import FilterPolicy

/// The case format shared by the corpus runner and `herald policy test --cases` (the CLI's message
/// decoding is `PolicyCase.decodeAttributes` plus the body rules tested here).
@Suite struct PolicyCaseTests {
    private func decode(_ text: String) throws -> PolicyCase {
        try PolicyCase.decode(try FilterPolicy.parseJSON(text, maxDepth: 64))
    }

    @Test func decodesAnAttributeCaseKeepingPolicyOrderAndNumberText() throws {
        let c = try decode(#"""
            {"id":"x","scope":"MessageAttributes","policy":{"b":[1.50],"a":["v"]},
             "message":{"attributes":{"a":{"Type":"String","Value":"v"},"b":{"Type":"Number","Value":"1.5"},
                                      "bin":{"Type":"Binary","Value":"AAE="}}},
             "expect":"match","api":"Subscribe"}
            """#)
        #expect(c.policyText == #"{"b":[1.50],"a":["v"]}"#)
        #expect(c.attributes?["a"] == .string("v"))
        #expect(c.attributes?["b"] == .number("1.5"))
        #expect(c.attributes?["bin"]?.filterKind == .binary)
        #expect(c.api == .subscribe && c.expect == .match && c.hasMessage)
        #expect(c.run(evaluator: ReferenceEvaluator.matches).passed)
    }

    @Test func decodesBodyAndRawPolicyCases() throws {
        let body = try decode(#"{"id":"b","scope":"MessageBody","policy":{"k":["v"]},"message":{"body":"{\"k\":\"v\"}"},"expect":"match"}"#)
        #expect(body.body == Array(#"{"k":"v"}"#.utf8))
        #expect(body.run(evaluator: ReferenceEvaluator.matches).outcome == .match)
        let raw = try decode(#"{"id":"r","scope":"MessageAttributes","policy":null,"policy_raw":"{invalidjson}","message":null,"expect":"invalid","api":"SetSubscriptionAttributes","error_first_line":"Invalid parameter: FilterPolicy: failed to parse JSON. Unexpected character ('i' (code 105)): was expecting double-quote to start field name"}"#)
        let result = raw.run(evaluator: ReferenceEvaluator.matches)
        #expect(result.outcome == .invalid && result.passed && result.error?.code == .invalidJSON)
    }

    @Test func aWrongErrorTextFailsTheCase() throws {
        let c = try decode(#"{"id":"e","policy":{"k":[]},"expect":"invalid","api":"Subscribe","error_first_line":"Invalid parameter: Attributes Reason: FilterPolicy: something else"}"#)
        let result = c.run(evaluator: ReferenceEvaluator.matches)
        #expect(!result.passed)
        #expect(result.mismatch == #"expected error "Invalid parameter: Attributes Reason: FilterPolicy: something else", got "Invalid parameter: Attributes Reason: FilterPolicy: Empty arrays are not allowed""#)
    }

    @Test func anEvaluatorThatDisagreesFails() throws {
        let c = try decode(#"{"id":"m","policy":{"k":["v"]},"message":{"attributes":{"k":{"Type":"String","Value":"v"}}},"expect":"match"}"#)
        #expect(!c.run(evaluator: { _, _ in false }).passed)
        #expect(c.run(evaluator: { _, _ in true }).passed)
    }

    @Test func malformedCasesAreErrors() {
        for text in [#"{"policy":{}}"#, #"{"id":"a","expect":"match"}"#, #"{"id":"a","policy":{},"expect":"maybe"}"#,
                     #"{"id":"a","policy":{},"expect":"match","message":{}}"#,
                     #"{"id":"a","policy":{},"expect":"match","message":{"attributes":{"k":{"Value":"v"}}}}"#] {
            #expect(throws: FilterPolicyError.self, "\(text)") { try decode(text) }
        }
        #expect(throws: FilterPolicyError.self) { try PolicyCase.decodeList(.object([])) }
    }
}
