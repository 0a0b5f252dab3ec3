import Testing
import HeraldCore
@testable import FilterPolicy

/// The detail after "failed to parse JSON. " for `text` (HeraldCore's `JSONParser` through the
/// filter-policy mapping), or nil when it parses.
func jsonError(_ text: String, maxDepth: Int = 64) -> String? {
    jsonError(Array(text.utf8), maxDepth: maxDepth)
}

func jsonError(_ bytes: [UInt8], maxDepth: Int = 64) -> String? {
    do {
        _ = try FilterPolicy.parseJSON(bytes, maxDepth: maxDepth)
        return nil
    } catch {
        #expect(error.code == .invalidJSON)
        #expect(error.reason.hasPrefix("failed to parse JSON. "))
        return String(error.reason.dropFirst("failed to parse JSON. ".count))
    }
}

@Suite struct JSONParsingTests {
    @Test func keepsKeyOrderDuplicatesAndNumberText() throws {
        let json = try FilterPolicy.parseJSON(#" {"b": 1.50, "a": [1e2, -0, 0.5E-3], "b": "x"} "#, maxDepth: 8)
        #expect(json == .object([
            .init(key: "b", value: .number("1.50")),
            .init(key: "a", value: .array([.number("1e2"), .number("-0"), .number("0.5E-3")])),
            .init(key: "b", value: .string("x")),
        ]))
        #expect(json.text == #"{"b":1.50,"a":[1e2,-0,0.5E-3],"b":"x"}"#)
    }

    @Test func decodesEscapesAndUnicode() throws {
        let json = try FilterPolicy.parseJSON(#"["a\"b\\c\/d\b\f\n\r\t", "\u00e9\u20AC", "\ud83d\ude00", "\ud800x", "é€😀"]"#, maxDepth: 8)
        #expect(json == .array([
            .string("a\"b\\c/d\u{8}\u{c}\n\r\t"), .string("é€"), .string("😀"), .string("\u{FFFD}x"), .string("é€😀"),
        ]))
    }

    @Test func serialisationRoundTrips() throws {
        let text = #"{"a":[true,false,null,{"b":"\n\u0001\"q\""}],"c":{}}"#
        let json = try FilterPolicy.parseJSON(text, maxDepth: 8)
        #expect(try FilterPolicy.parseJSON(json.text, maxDepth: 8) == json)
    }

    @Test func scalarsAtTheRootAndByteOrderMark() throws {
        #expect(try FilterPolicy.parseJSON("  42 ", maxDepth: 1) == .number("42"))
        #expect(try FilterPolicy.parseJSON([0xEF, 0xBB, 0xBF] + Array("true".utf8), maxDepth: 1) == .bool(true))
    }

    /// Jackson-like details (approximations of SNS's parser; the two recorded ones are exact).
    @Test(arguments: [
        ("{invalidjson}", "Unexpected character ('i' (code 105)): was expecting double-quote to start field name"),
        ("invalid-json", "Unrecognized token 'invalid': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"),
        ("", "No content to map due to end-of-input"),
        ("   ", "No content to map due to end-of-input"),
        ("{", "Unexpected end-of-input: expected close marker for Object (start marker at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 1])"),
        ("[1,", "Unexpected end-of-input: expected close marker for Array (start marker at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 1])"),
        (#"{"a" 1}"#, "Unexpected character ('1' (code 49)): was expecting a colon to separate field name and value"),
        (#"{"a":1 "b":2}"#, "Unexpected character ('\"' (code 34)): was expecting comma to separate Object entries"),
        ("[1 2]", "Unexpected character ('2' (code 50)): was expecting comma to separate Array entries"),
        ("[1,]", "Unexpected character (']' (code 93)): expected a value"),
        (#"{"a":1,}"#, "Unexpected character ('}' (code 125)): was expecting double-quote to start field name"),
        (#"{"a":]"#, "Unexpected character (']' (code 93)): expected a value"),
        (#"{"a":[1}"#, "Unexpected close marker '}': expected ']' (for Array starting at [Source: REDACTED (`StreamReadFeature.INCLUDE_SOURCE_IN_LOCATION` disabled); line: 1, column: 6])"),
        (#"{"a":1} x"#, "Unexpected character ('x' (code 120)): expected end-of-input after the root value"),
        ("[NaN]", "Non-standard token 'NaN': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow"),
        ("[Infinity]", "Non-standard token 'Infinity': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow"),
        ("[-Infinity]", "Non-standard token '-Infinity': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow"),
        ("[01]", "Invalid numeric value: Leading zeroes not allowed"),
        ("[-]", "Unexpected character (']' (code 93)) in numeric value: expected digit (0-9) to follow minus sign, for valid numeric value"),
        ("[1.]", "Unexpected character (']' (code 93)) in numeric value: Decimal point not followed by a digit"),
        ("[1e]", "Unexpected character (']' (code 93)) in numeric value: Exponent indicator not followed by a digit"),
        ("[.5]", "Unexpected character ('.' (code 46)): expected a value"),
        ("[+1]", "Unexpected character ('+' (code 43)): expected a value"),
        (#"["a\x"]"#, "Unrecognized character escape 'x' (code 120)"),
        (#"["\u12G4"]"#, "Unexpected character ('G' (code 71)): expected a hex-digit for character escape sequence"),
        ("[\"a\nb\"]", "Illegal unquoted character ((CTRL-CHAR, code 10)): has to be escaped using backslash to be included in string value"),
        (#"["abc"#, "Unexpected end-of-input: was expecting closing quote for a string value"),
        ("[tru]", "Unrecognized token 'tru': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"),
        ("[€]", "Unrecognized token '€': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')"),
    ])
    func errorDetails(text: String, detail: String) {
        #expect(jsonError(text) == detail)
    }

    @Test func locationsCountLinesAndColumns() throws {
        let error = try #require(throws: FilterPolicyError.self) { try FilterPolicy.parseJSON("{\n  \"a\": [1,\n   x]}", maxDepth: 8) }
        #expect(error.location == FilterPolicyError.SourceLocation(line: 3, column: 5))
    }
}

@Suite struct JSONBadInputTests {
    @Test func hundredThousandOpenBracketsFailFastAtTheDepthBound() {
        let text = String(repeating: "[", count: 100_000)
        #expect(jsonError(text) == "Document nesting depth (65) exceeds the maximum allowed (64)")
        #expect(rejection(text) == "failed to parse JSON. Document nesting depth (65) exceeds the maximum allowed (64)")
        // Same for objects, and for a raised limit the hard cap still applies.
        var limits = FilterPolicyLimits.sns
        limits.maxNestingDepth = 1_000_000
        limits.maxPolicyBytes = 1 << 20
        #expect(rejection(String(repeating: #"{"a":"#, count: 100_000), limits: limits)
            == "failed to parse JSON. Document nesting depth (257) exceeds the maximum allowed (256)")
    }

    @Test func deeplyNestedBalancedInputWithinBoundParses() throws {
        let text = String(repeating: "[", count: 256) + String(repeating: "]", count: 256)
        #expect(jsonError(text, maxDepth: 256) == nil)
        #expect(jsonError(text, maxDepth: 255) == "Document nesting depth (256) exceeds the maximum allowed (255)")
    }

    @Test func invalidUTF8IsRejected() {
        #expect(jsonError([0x5B, 0x22, 0xFF, 0x22, 0x5D]) == "Invalid UTF-8 start byte 0xff")
        #expect(jsonError([0x5B, 0x22, 0xC3, 0x41, 0x22, 0x5D]) == "Invalid UTF-8 middle byte 0x41")
        #expect(jsonError([0x5B, 0x22, 0xC0, 0x80, 0x22, 0x5D]) == "Invalid UTF-8 start byte 0xc0")  // overlong
        #expect(jsonError([0x5B, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x5D]) == "Invalid UTF-8 middle byte 0xa0")  // surrogate
        #expect(jsonError([0x5B, 0x22, 0xF4, 0x90, 0x80, 0x80, 0x22, 0x5D]) == "Invalid UTF-8 middle byte 0x90")  // > U+10FFFF
        #expect(jsonError([0x5B, 0x22, 0xE2, 0x82]) == "Unexpected end-of-input in the middle of a UTF-8 character")
        // Through the policy entry point, invalid bytes outside strings too.
        #expect(throws: FilterPolicyError.self) { try FilterPolicy.parse(utf8: [0x7B, 0x80, 0x7D]) }
    }

    @Test func everyPrefixOfAPolicyIsAnErrorNotACrash() {
        let policies = [
            #"{"store":["example_corp"],"price":[{"numeric":[">",0,"<=",1.5e2]}],"$or":[{"a":[{"prefix":"x\u00e9"}]},{"b":[null,true]}]}"#,
            #"{"object":{"key":[{"anything-but":{"prefix":"auto-"}}],"ip":[{"cidr":"10.0.0.0/24"}]}}"#,
            #"{"k":["é€😀", -0.5e-3, {"exists":false}]}"#,
        ]
        for policy in policies {
            let bytes = Array(policy.utf8)
            #expect(rejection(policy, scope: .messageBody) == nil)
            for cut in 0..<bytes.count {
                do {
                    _ = try FilterPolicy.parse(utf8: Array(bytes[..<cut]), scope: .messageBody)
                    Issue.record("prefix of length \(cut) was accepted: \(String(decoding: bytes[..<cut], as: UTF8.self))")
                } catch {
                    #expect(error.code == .invalidJSON, "prefix \(cut): \(error.reason)")
                }
            }
        }
    }

    @Test func nonFiniteAndHugeNumbers() throws {
        #expect(rejection(#"{"k":[NaN]}"#) == "failed to parse JSON. Non-standard token 'NaN': enable `JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS` to allow")
        #expect(rejection(#"{"k":[1e999]}"#) == "Numeric value out of range: 1e999")
        #expect(rejection(#"{"k":[-1e999]}"#) == "Numeric value out of range: -1e999")
        #expect(rejection(#"{"k":[{"anything-but":[1,1e400]}]}"#) == "Numeric value out of range: 1e400")
        // Large but finite numbers are accepted, at double precision.
        let policy = try FilterPolicy.parse(#"{"k":[123456789012345678901234567890, 1e308, 1e-400]}"#)
        #expect(policy.root.keys.first?.conditions == [.exactNumber(1.2345678901234568e29), .exactNumber(1e308), .exactNumber(0)])
        // Number text longer than Jackson's limit.
        let long = "[" + String(repeating: "1", count: 1001) + "]"
        #expect(jsonError(long) == "Number value length (1001) exceeds the maximum allowed (1000)")
    }

    @Test func tenThousandElementArraysAreHandled() throws {
        let big = #"{"k":"# + values(10_000) + "}"
        #expect(rejection(big) == "Filter policy is too complex")
        var limits = FilterPolicyLimits.sns
        limits.maxCombinations = 10_000
        let policy = try FilterPolicy.parse(big, limits: limits)
        #expect(policy.root.keys.first?.conditions.count == 10_000)
        #expect(jsonError("[" + Array(repeating: "1", count: 10_000).joined(separator: ",") + "]") == nil)
    }

    @Test func hugePoliciesAreBoundedBySize() {
        let huge = #"{"k":[""# + String(repeating: "a", count: 300_000) + #""]}"#
        let error = rejection(huge)
        #expect(error?.hasPrefix("Filter policy is too large: 300010 bytes") == true)
        var limits = FilterPolicyLimits.sns
        limits.maxPolicyBytes = 1 << 20
        #expect(rejection(huge, limits: limits) == nil)
    }
}

/// Random mutations of valid policies and bodies: every one must give a policy, an error, or an
/// unmatchable body — never a crash or a hang.
@Suite struct PolicyFuzzTests {
    /// Draws from HeraldCore's seeded generator, so failures reproduce.
    struct Generator {
        var random: SplitMix64
        mutating func below(_ n: Int) -> Int { Int(random.next() % UInt64(max(n, 1))) }
    }

    static let seeds = [
        #"{"store":["example_corp"],"price":[{"numeric":[">",0,"<=",1.5e2]}],"$or":[{"a":[{"prefix":"x"}]},{"b":[null,true]}]}"#,
        #"{"object":{"key":[{"anything-but":{"prefix":"auto-"}}],"ip":[{"cidr":"2001:db8::/64"}],"n":[{"exists":false}]}}"#,
        #"{"k":["é€😀\u00e9\"", -0.5e-3, {"anything-but":[1,2]}, {"equals-ignore-case":"A"}, {"suffix":"z"}]}"#,
    ]

    @Test func mutatedPoliciesNeverCrash() {
        var rng = Generator(random: SplitMix64(seed: 0x9E37_79B9_7F4A_7C15))
        let alphabet = Array(#"{}[]":,.-+0123456789eE\u"abnrtfx /é"#.utf8) + [0x00, 0x0A, 0x80, 0xC3, 0xFF]
        var outcomes = [0, 0]
        for iteration in 0..<4_000 {
            var bytes = Array(Self.seeds[iteration % Self.seeds.count].utf8)
            for _ in 0...rng.below(4) {
                let at = rng.below(bytes.count + 1)
                switch rng.below(4) {
                case 0 where at < bytes.count: bytes[at] = alphabet[rng.below(alphabet.count)]
                case 1: bytes.insert(alphabet[rng.below(alphabet.count)], at: at)
                case 2 where at < bytes.count: bytes.remove(at: at)
                default: bytes = Array(bytes[..<at])
                }
            }
            for scope in FilterPolicyScope.allCases {
                do {
                    let policy = try FilterPolicy.parse(utf8: bytes, scope: scope)
                    _ = ReferenceEvaluator.matches(policy, .body(bytes))
                    outcomes[0] += 1
                } catch {
                    #expect(!error.reason.isEmpty)
                    outcomes[1] += 1
                }
            }
            let body = FilterInput.body(bytes)
            #expect(body.isMatchable || body.fields.isEmpty)
        }
        // The mutations exercise both paths.
        #expect(outcomes[0] > 100 && outcomes[1] > 1_000)
    }

    @Test func valuesBuiltInCodeAreDepthChecked() {
        var deep = JSONValue.array([.string("x")])
        for _ in 0..<300 { deep = .object([.init(key: "a", value: deep)]) }
        #expect(deep.nestingDepth == 301)
        #expect(throws: FilterPolicyError.self) { try FilterPolicy.validate(deep, scope: .messageBody) }
    }
}
