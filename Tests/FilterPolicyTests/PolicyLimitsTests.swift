import Testing
import HeraldCore
@testable import FilterPolicy

/// A JSON array of `n` distinct string values.
func values(_ n: Int, _ stem: String = "v") -> String {
    "[" + (0..<n).map { "\"\(stem)\($0)\"" }.joined(separator: ",") + "]"
}

@Suite struct CombinationCountTests {
    /// Every counting example of spec §3.1.
    @Test(arguments: [
        // Flat: 3 × 1 × 2.
        (#"{"key_a":\#(values(3)),"key_b":\#(values(1)),"key_c":\#(values(2))}"#, 6),
        // Nested: depth 3 × 4 values, depth 2 × 3 values.
        (#"{"key_a":{"key_b":{"key_c":\#(values(4))}},"key_d":{"key_e":\#(values(3))}}"#, 72),
        (#"{"key_a":{"key_b":{"key_c":\#(values(4))}},"key_d":{"key_e":\#(values(3))},"key_f":\#(values(3))}"#, 216),
        // The AND/OR doc example: (1×2)+(1×1×2)+(1×1×3).
        (#"{"source":["aws.cloudwatch"],"$or":[{"metricName":\#(values(2))},{"metricType":["MetricType"],"$or":[{"metricId":[1234,4321]},{"spaceId":[1000,2000,3000]}]}]}"#, 7),
        // Depth-2 keys with one value contribute 2 each: (2×2×2)×4.
        (#"{"a":{"x":["1"],"y":["1"],"z":["1"]},"b":\#(values(4))}"#, 32),
        // A dotted key is depth 1: only object nesting raises the depth.
        (#"{"a.b.c":\#(values(4))}"#, 4),
        // Recorded on AWS: (4×6)+(4×4×4)+(4×4×4) = 152 (rejected) and (3×6)+(3×4×4)+(3×4×7) = 150 (accepted).
        (#"{"source":\#(values(4)),"$or":[{"metricName":\#(values(6))},{"metricType":\#(values(4)),"$or":[{"metricId":\#(values(4))},{"spaceId":\#(values(4))}]}]}"#, 152),
        (#"{"source":\#(values(3)),"$or":[{"metricName":\#(values(6))},{"metricType":\#(values(4)),"$or":[{"metricId":\#(values(4))},{"spaceId":\#(values(7))}]}]}"#, 150),
        // Recorded nested: (3×4×2)+(3×4×6)+(2×4×2)+(2×4×6) = 160.
        (#"{"$or":[{"metricName":\#(values(3))},{"namespace":\#(values(2))}],"detail":{"scope":\#(values(2)),"$or":[{"source":\#(values(1))},{"type":\#(values(3))}]}}"#, 160),
    ])
    func countsMatchTheSpec(policy: String, expected: Int) throws {
        #expect(try FilterPolicy.combinations(of: policy) == expected)
    }

    @Test func limitIsInclusive() {
        #expect(rejection(#"{"k":\#(values(150))}"#) == nil)
        #expect(rejection(#"{"k":\#(values(151))}"#) == "Filter policy is too complex")
        #expect(rejection(#"{"a":\#(values(100)),"b":\#(values(51))}"#) == "Filter policy is too complex")
        let accepted = #"{"source":\#(values(3)),"$or":[{"metricName":\#(values(6))},{"metricType":\#(values(4)),"$or":[{"metricId":\#(values(4))},{"spaceId":\#(values(7))}]}]}"#
        #expect(rejection(accepted) == nil)
    }

    @Test func limitIsConfigurableUpward() {
        var limits = FilterPolicyLimits.sns
        limits.maxCombinations = 10_000
        #expect(rejection(#"{"a":\#(values(100)),"b":\#(values(51))}"#, limits: limits) == nil)
    }

    @Test func hugeCountsSaturateInsteadOfOverflowing() throws {
        var limits = FilterPolicyLimits.sns
        limits.maxCombinations = Int.max - 1
        limits.maxPolicyBytes = 1 << 20
        // 5 keys × 10,000 values: 10^20 overflows Int64.
        let policy = "{" + (0..<5).map { #""k\#($0)":\#(values(10_000))"# }.joined(separator: ",") + "}"
        #expect(try FilterPolicy.combinations(of: policy) == Int.max)
        #expect(rejection(policy, limits: limits) == "Filter policy is too complex")
    }
}

@Suite struct KeyLimitTests {
    @Test func fiveKeysAreAllowedSixAreNot() {
        let five = "{" + (1...5).map { #""key\#($0)":["v"]"# }.joined(separator: ",") + "}"
        let six = "{" + (1...6).map { #""key\#($0)":["v"]"# }.joined(separator: ",") + "}"
        #expect(rejection(five) == nil)
        #expect(rejection(six) == "Filter policy can not have more than 5 keys")
        #expect(rejection(six, scope: .messageBody) == "Filter policy can not have more than 5 keys")
    }

    @Test func orCountsAsAKeyAndNestedKeysDoNot() {
        let fivePlusOr = "{" + (1...5).map { #""key\#($0)":["v"]"# }.joined(separator: ",") + #","$or":[{"a":["1"]},{"b":["2"]}]}"#
        #expect(rejection(fivePlusOr) == "Filter policy can not have more than 5 keys")
        let nested = #"{"a":{"b":["1"],"c":["1"],"d":["1"],"e":["1"],"f":["1"],"g":["1"]}}"#
        #expect(rejection(nested, scope: .messageBody) == nil)
    }

    @Test func duplicateJSONKeysCountOnce() {
        #expect(rejection(#"{"a":["1"],"a":["2"],"b":["1"],"c":["1"],"d":["1"],"e":["1"]}"#) == nil)
    }

    @Test func configuredLimitAppearsInTheText() {
        var limits = FilterPolicyLimits.sns
        limits.maxKeys = 2
        #expect(rejection(#"{"a":["1"],"b":["1"],"c":["1"]}"#, limits: limits) == "Filter policy can not have more than 2 keys")
    }

    @Test func keyCountIsCheckedBeforeNestingAndComplexity() {
        let six = #"{"a":{"x":["1"]},"b":\#(values(151)),"c":["1"],"d":["1"],"e":["1"],"f":["1"]}"#
        #expect(rejection(six) == "Filter policy can not have more than 5 keys")
        #expect(rejection(#"{"a":{"x":["1"]},"b":\#(values(151))}"#)
            == "Filter policy scope MessageAttributes does not support nested filter policy")
    }
}

@Suite struct SizeAndDepthLimitTests {
    @Test func oversizedPolicyIsRejectedBeforeParsing() throws {
        var limits = FilterPolicyLimits.sns
        limits.maxPolicyBytes = 10
        // Not even valid JSON: the size check comes first.
        let error = try #require(throws: FilterPolicyError.self) { try FilterPolicy.parse("{{{{{{{{{{{{", limits: limits) }
        #expect(error.code == .policyTooLarge)
        #expect(error.reason == "Filter policy is too large: 12 bytes, the limit is 10 bytes")
    }

    @Test func defaultDepthBoundIsSixtyFour() {
        let deep = String(repeating: #"{"a":"#, count: 63) + #"["x"]"# + String(repeating: "}", count: 63)
        #expect(rejection(deep, scope: .messageBody) == nil)
        let tooDeep = String(repeating: #"{"a":"#, count: 64) + #"["x"]"# + String(repeating: "}", count: 64)
        #expect(rejection(tooDeep, scope: .messageBody) == "failed to parse JSON. Document nesting depth (65) exceeds the maximum allowed (64)")
    }
}

@Suite struct ErrorMessageTests {
    @Test func prefixesFollowTheAPI() {
        let tooComplex = FilterPolicyError(.tooComplex, "Filter policy is too complex")
        #expect(tooComplex.message(api: .setSubscriptionAttributes) == "Invalid parameter: FilterPolicy: Filter policy is too complex")
        #expect(tooComplex.message(api: .subscribe) == "Invalid parameter: Attributes Reason: FilterPolicy: Filter policy is too complex")
        let nested = FilterPolicyError(.nestedPolicyNotSupported, "Filter policy scope MessageAttributes does not support nested filter policy")
        #expect(nested.message(api: .setSubscriptionAttributes) == "Invalid parameter: Filter policy scope MessageAttributes does not support nested filter policy")
        #expect(nested.message(api: .subscribe) == "Invalid parameter: Attributes Reason: Filter policy scope MessageAttributes does not support nested filter policy")
    }

    @Test func scopeValueError() throws {
        let error = try #require(throws: FilterPolicyError.self) { try FilterPolicyScope(snsValue: "RandomValue") }
        #expect(error.message(api: .setSubscriptionAttributes)
            == "Invalid parameter: FilterPolicyScope: Invalid value [RandomValue]. Please use either MessageBody or MessageAttributes")
        #expect(try FilterPolicyScope(snsValue: "MessageBody") == .messageBody)
    }

    @Test func jsonErrorsCarryJacksonStyleLocation() throws {
        let error = try #require(throws: FilterPolicyError.self) { try FilterPolicy.parse("{invalidjson}") }
        #expect(error.message(api: .setSubscriptionAttributes) == """
            Invalid parameter: FilterPolicy: failed to parse JSON. Unexpected character ('i' (code 105)): was expecting double-quote to start field name
             at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 2]
            """)
        let token = try #require(throws: FilterPolicyError.self) { try FilterPolicy.parse("invalid-json") }
        #expect(token.location == FilterPolicyError.SourceLocation(line: 1, column: 8))
    }
}
